/**
 * The Node flags a worker process runs with (`npm run start:worker`, docker compose, the Kubernetes manifests,
 * the benches; src/worker-flags.spec.ts keeps them in step). V8 sizes its young generation from the machine's
 * memory: 64 MB semi-spaces on a 24 GiB machine, which a worker's churn (rows, step outputs) fills and keeps
 * resident. 32 MB kept the same throughput and lowered the peak RSS from 291 to 243 MB under bench:engine and
 * from 310 to 270 MB extracting a 1,000,000-row CSV; 16 and below were slower and larger (more objects outlived
 * the young generation and were promoted).
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'];
