/**
 * `node -r ts-node/register/transpile-only bench/observability.ts`: the local fallbacks at their default bounds, on real Redis. Metrics: an hour of
 * pushes (240 at 15 s) from 3 processes of a counter with 20 tenants x 3 statuses, then an instant
 * `sum by (tenant_id) (rate(...[5m]))` and a 1 h range query at 15 s steps. Logs: a full store
 * (LOG_STORE_MAX_ENTRIES = 50,000 lines), then a query by a request id that matches nothing (the whole stream
 * scanned) and one for the newest 100 lines. Median and worst of BENCH_REPEAT calls. Not a test.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { call, loginAdmin } from '../test/support/auth';
import { prepareTestBackends, testRedisUrl } from '../test/support/backends';
import { createTestBackends, startTestApi } from '../test/support/harness';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const HISTORY = 240;
const STEP_MS = 15_000;
const PROCESSES = 3;
const TENANTS = 20;
const LOG_LINES = 50_000;

async function timed(what: string, run: () => Promise<{ status: number }>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const started = performance.now();
    const res = await run();
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}`);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${what}: median ${times[times.length >> 1].toFixed(1)} ms, worst ${times.at(-1)?.toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  await prepareTestBackends();
  const backends = await createTestBackends();
  const redis = new Redis(testRedisUrl());
  const api = await startTestApi(backends.env);
  try {
    const admin = await loginAdmin(api.url);
    const now = Date.now();
    const key = `${backends.queuePrefix}:obs:metrics:conflux_runs_finished_total`;
    for (let p = 0; p < PROCESSES; p++) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < HISTORY; i++) {
        const t = now - (HISTORY - i) * STEP_MS;
        const series = [];
        for (let tenant = 0; tenant < TENANTS; tenant++)
          for (const status of ['completed', 'failed', 'cancelled'])
            series.push([
              { instance: `worker:${p}`, process: 'worker', status, tenant_id: `t${tenant}` },
              i * 3,
            ]);
        pipeline.zadd(key, t, JSON.stringify({ instance: `worker:${p}`, t, series }));
      }
      await pipeline.exec();
    }
    const query = (body: unknown) =>
      call(api.url, 'POST', '/api/v1/metrics/query', { credentials: admin, body });
    await timed('metrics instant sum by (tenant_id) (rate([5m]))', () =>
      query({ query: 'sum by (tenant_id) (rate(conflux_runs_finished_total[5m]))' }),
    );
    await timed('metrics range 1h / 15s sum by (status) (...)', () =>
      query({
        query: 'sum by (status) (conflux_runs_finished_total)',
        start: (now - 3_600_000) / 1000,
        end: now / 1000,
        step: '15s',
      }),
    );

    const stream = `${backends.queuePrefix}:obs:logs`;
    for (let batch = 0; batch < LOG_LINES / 1000; batch++) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 1000; i++) {
        const line = {
          level: 'info',
          time: new Date().toISOString(),
          request_id: `r${batch}-${i}`,
          tenant_id: 'acme',
          msg: 'request completed',
          process: 'api:bench:1',
        };
        pipeline.xadd(stream, '*', 'e', JSON.stringify(line));
      }
      await pipeline.exec();
    }
    const logs = (body: unknown) => call(api.url, 'POST', '/api/v1/logs/query', { credentials: admin, body });
    await timed(`logs request_id matching none of ${LOG_LINES} lines`, () => logs({ request_id: 'nothing' }));
    await timed('logs newest 100', () => logs({ limit: 100 }));
  } finally {
    redis.disconnect();
    await api.close();
    await backends.cleanup();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
