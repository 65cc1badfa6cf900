/**
 * `npm run bench:realtime`: delivery latency from commit to client for run streams, at BENCH_CLIENTS clients (100)
 * watching BENCH_RUNS runs (20) while BENCH_EVENTS_PER_SECOND events (200) are committed and published. The
 * committer does what the engine does per event: append it to `run_events` under the run's row lock, commit,
 * then publish through the real EventPublisher. Latency is the time from that commit to the frame arriving at a
 * client (same clock: the committer and the clients share this process). Conflux's API runs compiled, as its own
 * process; the baseline is a bare Redis pub/sub -> ws relay (bench/realtime-relay.ts), also its own process,
 * with the same clients and load, alternated in the same run. Numbers, not a test.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { WebSocket } from 'ws';
import { API_NODE_FLAGS } from '../src/node-flags';
import type { RedisConfig } from '../src/core/config/redis.config';
import { EventPublisher } from '../src/core/events/event-publisher';
import { loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends, testRedisUrl } from '../test/support/backends';
import { graph, publish, startRun } from '../test/support/workflows';
import { createTestBackends, relaxRateLimits, startTestApi } from '../test/support/harness';
import { keyOf } from '../test/support/ws';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const RATE = Number(process.env.BENCH_EVENTS_PER_SECOND ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP_MS = 1000;

const now = () => performance.timeOrigin + performance.now();
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** A child process that prints `marker` once ready; resolves with the matching line. */
async function launch(
  args: string[],
  env: NodeJS.ProcessEnv,
  marker: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const output: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const text of chunk.toString().split('\n')) {
        output.push(text);
        if (process.env.BENCH_VERBOSE) console.error(text);
        if (marker.test(text)) resolve(text);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited (${code}):\n${output.join('\n')}`)),
    );
  });
  return { child, line };
}

interface Variant {
  name: string;
  /** Opens a client watching `runId`; resolves once it will receive every later event. */
  connect(runId: string, onEvent: (seq: number) => void): Promise<WebSocket>;
}

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends({ DATABASE_POOL_SIZE: '10' });
  await relaxRateLimits(backends);
  const setup = await startTestApi(backends.env);
  const tenant = await onboardTenant(setup.url, await loginAdmin(setup.url), 'bench');
  // Runs that wait at an approval step: real runs, with no worker adding events of its own.
  const workflowId = await publish(
    setup.url,
    tenant,
    graph(
      [
        { id: 'start', type: 'trigger.manual' },
        { id: 'hold', type: 'approval' },
      ],
      ['start->hold'],
    ),
  );
  const runIds: string[] = [];
  for (let i = 0; i < RUNS; i++)
    runIds.push((await startRun(setup.url, tenant, workflowId)).body.id as string);
  await setup.close();

  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const api = await launch(
    [...API_NODE_FLAGS, path.join(__dirname, '../dist/main.js')],
    { ...backends.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    /Conflux API listening/,
  );
  const relay = await launch(
    ['-r', require.resolve('ts-node/register/transpile-only'), path.join(__dirname, 'realtime-relay.ts')],
    {
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: backends.queuePrefix,
      TS_NODE_PROJECT: path.join(__dirname, '../tsconfig.json'),
    },
    /^listening \d+/,
  );
  const relayPort = Number(/listening (\d+)/.exec(relay.line)?.[1]);

  const variants: Variant[] = [
    {
      name: 'conflux',
      connect: (runId, onEvent) =>
        open(`ws://127.0.0.1:${port}/ws/runs/${runId}?access_token=${keyOf(tenant)}`, 'snapshot', (frame) => {
          if (frame.type === 'event') onEvent(frame.seq as number);
        }),
    },
    {
      name: 'baseline',
      connect: (runId, onEvent) =>
        open(`ws://127.0.0.1:${relayPort}/?run=${runId}`, 'ready', (frame) => {
          if (typeof frame.seq === 'number') onEvent(frame.seq);
        }),
    },
  ];

  const redis = new Redis(testRedisUrl());
  const publisher = new EventPublisher(redis, { QUEUE_PREFIX: backends.queuePrefix } as RedisConfig);
  const pool = new Pool({ connectionString: backends.databaseUrl, max: 10 });
  const results = new Map<string, number[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of variants) {
        const latencies = await measure(variant, runIds, pool, publisher, tenant.tenantId);
        results.set(variant.name, [...(results.get(variant.name) ?? []), ...latencies]);
        const sorted = [...latencies].sort((a, b) => a - b);
        console.log(
          `round ${round + 1} ${variant.name.padEnd(8)} deliveries ${sorted.length}  p50 ${pct(sorted, 50).toFixed(2)} ms  p99 ${pct(sorted, 99).toFixed(2)} ms`,
        );
      }
    }
    const [conflux, baseline] = ['conflux', 'baseline'].map((name) =>
      (results.get(name) ?? []).sort((a, b) => a - b),
    );
    console.log(
      `\n${CLIENTS} clients on ${RUNS} runs, ${RATE} events/s committed, ${SECONDS} s x ${ROUNDS} rounds per variant`,
    );
    console.log('| variant | deliveries | p50 ms | p90 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, sorted] of [
      ['conflux', conflux],
      ['baseline', baseline],
    ] as const) {
      console.log(
        `| ${name} | ${sorted.length} | ${pct(sorted, 50).toFixed(2)} | ${pct(sorted, 90).toFixed(2)} | ${pct(sorted, 99).toFixed(2)} | ${sorted.at(-1)?.toFixed(2)} |`,
      );
    }
    const p99 = pct(conflux, 99);
    const ratio = p99 / pct(baseline, 99);
    console.log(`\np99 ${p99.toFixed(2)} ms (target <= 25): ${p99 <= 25 ? 'met' : 'MISSED'}`);
    console.log(`p99 ratio to baseline ${ratio.toFixed(2)}x (target <= 3): ${ratio <= 3 ? 'met' : 'MISSED'}`);
  } finally {
    await pool.end();
    redis.disconnect();
    api.child.kill('SIGTERM');
    relay.child.kill('SIGTERM');
    await new Promise((resolve) => api.child.once('exit', resolve));
    await backends.cleanup();
    await stopBackends();
  }
}

/** Connects every client, commits and publishes at the target rate, and returns commit-to-client latencies. */
async function measure(
  variant: Variant,
  runIds: string[],
  pool: Pool,
  publisher: EventPublisher,
  tenantId: string,
): Promise<number[]> {
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let measuring = false;
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => {
      const runId = runIds[i % runIds.length];
      return variant.connect(runId, (seq) => {
        const at = committedAt.get(`${runId}:${seq}`);
        if (measuring && at !== undefined) latencies.push(now() - at);
      });
    }),
  );
  const began = now();
  const total = Math.round(RATE * (SECONDS + WARMUP_MS / 1000));
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = began + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    measuring = now() - began >= WARMUP_MS;
    const runId = runIds[i % runIds.length];
    inFlight.push(commitAndPublish(pool, publisher, tenantId, runId, committedAt));
  }
  await Promise.all(inFlight);
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const socket of sockets) socket.terminate();
  return latencies;
}

async function commitAndPublish(
  pool: Pool,
  publisher: EventPublisher,
  tenantId: string,
  runId: string,
  committedAt: Map<string, number>,
): Promise<void> {
  const client = await pool.connect();
  let row: { seq: number; timestamp: Date };
  try {
    await client.query('BEGIN');
    row = (
      await client.query<{ seq: number; timestamp: Date }>(
        `WITH next AS (UPDATE runs SET next_seq = next_seq + 1, updated_at = now() WHERE id = $1 RETURNING next_seq)
         INSERT INTO run_events (run_id, seq, event_type, step_id, data, "timestamp")
         SELECT $1, next_seq, 'bench.tick', NULL, '{}', now() FROM next RETURNING seq, "timestamp"`,
        [runId],
      )
    ).rows[0];
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  committedAt.set(`${runId}:${row.seq}`, now());
  await publisher.publish([
    {
      tenant_id: tenantId,
      topic: 'runs',
      resource_id: runId,
      type: 'bench.tick',
      seq: row.seq,
      step_id: null,
      data: {},
      timestamp: row.timestamp.toISOString(),
    },
  ]);
}

function open(
  url: string,
  readyType: string,
  onFrame: (frame: Record<string, unknown>) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type === readyType) resolve(socket);
      else onFrame(frame);
    });
    socket.once('error', reject);
    socket.once('close', (code) => reject(new Error(`${url} closed (${code}) before it was ready`)));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
