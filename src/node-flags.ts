/**
 * The Node flags Conflux's processes run with, wherever they are started (`npm run start:*`, the Dockerfile,
 * docker compose, the Kubernetes manifests, the benches; src/node-flags.spec.ts keeps them in step). V8 sizes
 * its heap from the machine's memory (on a 24 GiB machine: 64 MB semi-spaces, a 4 GB old generation it fills
 * lazily), so without them a process's RSS says more about the machine than about Conflux.
 */

/**
 * The API: a 512 MB old generation (its live heap is about 80 MB) makes V8 collect before garbage piles up: after
 * 60 s of GET /workflows at ~2,300 req/s the API grew by 19 MB instead of 135-155 MB, at the same req/s.
 * `--expose-gc` lets streamed uploads and downloads ask for a young-generation collection every 16 MB
 * (src/modules/storage/metered.ts): a 200 MB upload grew the API by 13-19 MB instead of 54.
 */
export const API_NODE_FLAGS = ['--max-old-space-size=512', '--expose-gc'];

/**
 * A worker: 32 MB semi-spaces kept the same throughput and lowered the peak RSS from 291 to 243 MB under
 * bench:engine and from 310 to 259-270 MB extracting a 1,000,000-row CSV; 16 and below were slower and larger
 * (more objects outlived the young generation and were promoted). No old-generation cap: an XLSX's shared
 * strings or a large step output may need the room.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'];
