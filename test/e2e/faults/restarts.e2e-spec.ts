import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../src/core/database/embedded-postgres';
import { type LocalRedis, startLocalRedis } from '../../../src/core/queue/local-redis';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { eventsOf, graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';

// Servers this file restarts are its own (an embedded PostgreSQL, a spawned redis-server), never the machine's.
let dataDir: string;
let pg: EmbeddedPostgres;
let pgPort: number;
let redis: LocalRedis;
let redisPort: number;
let redisDir: string;
let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let workflowId: string;
const saved = { db: process.env.TEST_DATABASE_URL, redis: process.env.TEST_REDIS_URL };

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'conflux-faults-pg-'));
  pg = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
  pgPort = Number(new URL(pg.url).port);
  // Redis keeps its data across its restart (an append-only file): the restart is not a flush.
  redisDir = mkdtempSync(path.join(tmpdir(), 'conflux-faults-redis-'));
  redis = await startLocalRedis(undefined, { dataDir: redisDir });
  redisPort = Number(new URL(redis.url).port);
  process.env.TEST_DATABASE_URL = pg.url;
  process.env.TEST_REDIS_URL = redis.url;
  backends = await createTestBackends({ DATABASE_POOL_SIZE: '4' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  workflowId = await publish(
    api.url,
    acme,
    graph(
      [
        { id: 'start', type: 'trigger.manual' },
        { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
      ],
      ['start->double'],
    ),
  );
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup().catch(() => undefined);
  await redis?.stop();
  await pg?.stop();
  process.env.TEST_DATABASE_URL = saved.db;
  process.env.TEST_REDIS_URL = saved.redis;
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(redisDir, { recursive: true, force: true });
});

/** One request that must answer (never hang) within 10 s. */
const list = () =>
  fetch(`${api.url}/api/v1/workflows`, {
    headers: acme.ownerKey.headers,
    signal: AbortSignal.timeout(10_000),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

async function runCompletes(n: number): Promise<void> {
  const started = await startRun(api.url, acme, workflowId, { n });
  expect(started.status).toBe(201);
  const done = await waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed'], 30_000);
  expect(done.status).toBe('completed');
  expect(done.context.steps.double.output).toBe(n * 2);
}

describe('restarts of PostgreSQL and Redis under a running API and worker', () => {
  it('answers 503 DB_UNAVAILABLE while PostgreSQL is down, and recovers without a restart', async () => {
    await runCompletes(1);
    await pg.stop();
    const during = await list();
    expect([during.status, during.body.error_code]).toEqual([503, 'DB_UNAVAILABLE']);
    expect(JSON.stringify(during.body)).not.toMatch(/SELECT|password|ECONNREFUSED/);
    pg = await startEmbeddedPostgres({ dataDir, database: 'postgres', port: pgPort });
    await waitFor(async () => (await list()).status === 200, 'the API to answer again', 30_000);
    await runCompletes(2);
  });

  it('answers 503 QUEUE_UNAVAILABLE while Redis restarts under runs in flight, which then finish once each', async () => {
    // Five runs waiting on a delay, their next jobs held in Redis while it restarts.
    const waiting = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 1500 } },
          { id: 'after', type: 'transform', config: { expression: 'input.n + 1' } },
        ],
        ['start->wait', 'wait->after'],
      ),
    );
    const runs = await Promise.all(
      [10, 11, 12, 13, 14].map(
        async (n) => (await startRun(api.url, acme, waiting, { n })).body.id as string,
      ),
    );
    const probe = `${backends.queuePrefix}:restart-probe`;
    const before = new Redis(redis.url);
    await before.set(probe, 'kept');
    before.disconnect();
    await redis.stop();
    let during: Awaited<ReturnType<typeof list>>;
    try {
      during = await list();
    } finally {
      redis = await startLocalRedis(redisPort, { dataDir: redisDir });
    }
    expect([during.status, during.body.error_code]).toEqual([503, 'QUEUE_UNAVAILABLE']);
    // Restarted, not flushed: the queues came back with what they held.
    const client = new Redis(redis.url);
    try {
      expect(await client.get(probe)).toBe('kept');
    } finally {
      client.disconnect();
    }
    await waitFor(async () => (await list()).status === 200, 'the API to answer again', 30_000);
    for (const [i, id] of runs.entries()) {
      const done = await waitForStatus(api.url, acme, id, ['completed', 'failed'], 30_000);
      expect([done.status, done.context.steps.after.output]).toEqual(['completed', 11 + i]);
      const completions = (await eventsOf(api.url, acme, id)).filter(
        (e) => e.event_type === 'step.completed',
      );
      expect(completions.map((e) => e.step_id).sort()).toEqual(['after', 'start', 'wait']);
    }
    await runCompletes(3);
  });

  it('never answered 500 meanwhile', async () => {
    const res = await call(api.url, 'GET', '/api/v1/workflows', { credentials: acme.ownerKey });
    expect(res.status).toBe(200);
  });
});
