/**
 * `npm run bench:scale`: the 3-step HTTP workflow (trigger -> three http.request steps against a local server)
 * kept at 200 runs in flight through 2 API processes, with 1, 2 and 4 worker processes (compiled, as production
 * runs them) against one PostgreSQL and one Redis. Prints runs/s per worker count and the CPU each part used
 * over the measured window (from /proc: PostgreSQL backends, redis-server, the workers, the APIs), the Postgres
 * rows a run leaves and the Redis memory a run in flight holds. Numbers, not a test. On a machine others share,
 * the PostgreSQL and Redis CPU includes their load too.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { API_NODE_FLAGS } from '../src/node-flags';
import { findFreePort } from '../src/core/net/free-port';
import { loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends, testRedisUrl } from '../test/support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  spawnWorker,
  waitFor,
  type WorkerProcess,
} from '../test/support/harness';
import { httpChain, publish, recordingServer, startRun } from '../test/support/workflows';

const WORKERS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 50);
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) each matching process has used so far. */
function cpuSeconds(match: (comm: string, pid: number) => boolean): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(comm, pid)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process exited meanwhile
    }
  }
  return ticks / TICKS;
}

async function spawnApi(
  env: Record<string, string | undefined>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await findFreePort(13100 + Math.floor(Math.random() * 500));
  const child = spawn(process.execPath, [...API_NODE_FLAGS, path.join(__dirname, '../dist/main.js')], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () =>
      fetch(`${url}/health`).then(
        (res) => res.ok,
        () => false,
      ),
    'an API process to answer /health',
    60_000,
    200,
  );
  return { url, child };
}

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends({
    WORKER_CONCURRENCY: String(CONCURRENCY),
    DATABASE_POOL_SIZE: '10',
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
  });
  await relaxRateLimits(backends);
  const server = await recordingServer();
  const apis = [await spawnApi(backends.env), await spawnApi(backends.env)];
  const sub = new Redis(testRedisUrl());
  const redis = new Redis(testRedisUrl());
  const pool = new Pool({ connectionString: backends.databaseUrl, max: 2 });
  const workers: WorkerProcess[] = [];
  try {
    const tenant = await onboardTenant(apis[0].url, await loginAdmin(apis[0].url), 'bench');
    const workflowId = await publish(apis[0].url, tenant, httpChain(`${server.url}/ok`, 3));
    // Completion from the committed events the engine publishes (no polling load on the API).
    const done = new Map<string, () => void>();
    const finishedEarly = new Set<string>();
    await sub.subscribe(`${backends.queuePrefix}:tenant:bench:runs`);
    sub.on('message', (_channel, message) => {
      const event = JSON.parse(message) as { resource_id: string; type: string };
      if (!['run.completed', 'run.failed'].includes(event.type)) return;
      const resolve = done.get(event.resource_id);
      if (resolve) resolve();
      else finishedEarly.add(event.resource_id);
    });
    let serial = 0;
    const runOnce = async (): Promise<void> => {
      const api = apis[serial++ % apis.length];
      const started = await startRun(api.url, tenant, workflowId, { i: serial });
      if (started.status !== 201)
        throw new Error(`run refused: ${started.status} ${JSON.stringify(started.body)}`);
      const id = started.body.id as string;
      if (finishedEarly.delete(id)) return;
      await new Promise<void>((resolve) => done.set(id, resolve));
      done.delete(id);
    };
    let redisBytesPerRun = NaN;
    const closedLoop = async (total: number, probe: boolean): Promise<number> => {
      let started = 0;
      const began = performance.now();
      const lane = async () => {
        while (started < total) {
          started += 1;
          await runOnce();
        }
      };
      const lanes = Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      if (probe) {
        // Mid-run, with IN_FLIGHT runs going: the bytes under this deployment's prefix, per run in flight.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        let bytes = 0;
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${backends.queuePrefix}:*`, 'COUNT', 1000);
          for (const key of keys) bytes += (await redis.memory('USAGE', key)) ?? 0;
          cursor = next;
        } while (cursor !== '0');
        redisBytesPerRun = bytes / IN_FLIGHT;
      }
      await lanes;
      return total / ((performance.now() - began) / 1000);
    };

    const apiPids = new Set(apis.map((api) => api.child.pid));
    const rows: string[] = [];
    for (const count of WORKERS) {
      while (workers.length < count)
        workers.push(
          await spawnWorker(
            { ...backends.env, WORKER_QUEUES: 'engine' },
            path.join(__dirname, '../dist/worker.js'),
          ),
        );
      await closedLoop(Math.min(200, RUNS / 5), false); // warm-up
      const workerPids = new Set(workers.map((worker) => worker.child.pid));
      const parts = {
        postgres: (comm: string) => comm === 'postgres',
        redis: (comm: string) => comm.startsWith('redis-server'),
        workers: (_: string, pid: number) => workerPids.has(pid),
        apis: (_: string, pid: number) => apiPids.has(pid),
      };
      const before = Object.fromEntries(Object.entries(parts).map(([name, m]) => [name, cpuSeconds(m)]));
      const began = performance.now();
      const rps = await closedLoop(RUNS, count === WORKERS[0]);
      const seconds = (performance.now() - began) / 1000;
      const used = Object.fromEntries(
        Object.entries(parts).map(([name, m]) => [name, (cpuSeconds(m) - before[name]) / seconds]),
      );
      const f = (x: number) => x.toFixed(2).padStart(8);
      rows.push(
        `${String(count).padStart(7)} ${rps.toFixed(1).padStart(7)}  ${f(used.postgres)} ${f(used.redis)} ${f(used.workers)} ${f(used.apis)}`,
      );
      console.log(rows.at(-1));
    }
    const [counts] = (
      await pool.query<{ runs: number; steps: number; events: number }>(
        `SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM step_runs)::int AS steps,
                (SELECT count(*) FROM run_events)::int AS events`,
      )
    ).rows;
    console.log(
      `\nbench:scale: 3-step HTTP workflow, ${IN_FLIGHT} in flight, 2 API processes, WORKER_CONCURRENCY=${CONCURRENCY}, ` +
        `${RUNS} runs per level; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end`,
    );
    console.log('workers   runs/s  CPU (cores): postgres    redis  workers     apis');
    for (const row of rows) console.log(row);
    console.log(
      `\nper run: ${(counts.steps / counts.runs).toFixed(1)} step_runs rows, ${(counts.events / counts.runs).toFixed(1)} run_events rows (+1 runs row)`,
    );
    console.log(
      `Redis per run in flight: ${(redisBytesPerRun / 1024).toFixed(1)} KiB (keys under the prefix / ${IN_FLIGHT})`,
    );
  } finally {
    for (const worker of workers) await worker.stop('SIGTERM');
    for (const api of apis) api.child.kill('SIGTERM');
    sub.disconnect();
    redis.disconnect();
    await pool.end();
    await server.close();
    await backends.cleanup();
    await stopBackends();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
