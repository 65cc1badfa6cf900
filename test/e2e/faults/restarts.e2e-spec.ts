import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../src/core/database/embedded-postgres';
import { type LocalRedis, startLocalRedis } from '../../../src/core/queue/local-redis';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
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
  redis = await startLocalRedis();
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

  it('answers 503 QUEUE_UNAVAILABLE while Redis is down, and the worker consumes again after its restart', async () => {
    await redis.stop();
    let during: Awaited<ReturnType<typeof list>>;
    try {
      during = await list();
    } finally {
      redis = await startLocalRedis(redisPort);
    }
    expect([during.status, during.body.error_code]).toEqual([503, 'QUEUE_UNAVAILABLE']);
    await waitFor(async () => (await list()).status === 200, 'the API to answer again', 30_000);
    await runCompletes(3);
  });

  it('never answered 500 meanwhile', async () => {
    const res = await call(api.url, 'GET', '/api/v1/workflows', { credentials: acme.ownerKey });
    expect(res.status).toBe(200);
  });
});
