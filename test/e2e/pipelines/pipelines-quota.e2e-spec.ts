import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { runPipeline, waitPipeline } from './pipelines-support';

// Plan quotas under concurrency: a STARTER tenant may have 3 pipeline runs in flight and start 6 a day. The
// checks and the run's insert are one transaction under a per-tenant lock, so a burst never over-admits.

let backends: TestBackends;
let api: RunningApi;
let starter: OnboardedTenant;
let pro: OnboardedTenant;

const KEYS = ['aws', 'gcp', 'azure'].flatMap((p) => [`${p}/cost/billing_cost`, `${p}/compute/usage_metrics`]);

beforeAll(async () => {
  // The burst below is about quotas, not the 50/min pipeline-run rate limit.
  backends = await createTestBackends({ RATE_LIMIT_PIPELINE_RUNS_PER_MINUTE: '100000' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  starter = await onboardTenant(api.url, admin, 'starterco', 'STARTER');
  pro = await onboardTenant(api.url, admin, 'proco', 'PROFESSIONAL');
}, 60_000);

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

async function burst(n: number) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      runPipeline(api.url, starter.ownerKey, starter.tenantId, KEYS[i % KEYS.length]),
    ),
  );
}

it('refuses a second start of a pipeline while it is PENDING with 409', async () => {
  // No worker runs yet: the first run stays PENDING.
  const first = await runPipeline(api.url, pro.ownerKey, pro.tenantId, 'aws/cost/billing_cost');
  expect(first.status).toBe(201);
  const second = await runPipeline(api.url, pro.ownerKey, pro.tenantId, 'aws/cost/billing_cost');
  expect(second.status).toBe(409);
  expect(second.body).toMatchObject({
    error_code: 'PIPELINE_ALREADY_RUNNING',
    details: { pipeline_logging_id: first.body.pipeline_logging_id, status: 'PENDING' },
  });
  // Another pipeline of the same tenant is not blocked by it.
  expect((await runPipeline(api.url, pro.ownerKey, pro.tenantId, 'gcp/cost/billing_cost')).status).toBe(201);
});

it('refuses a provider beyond the plan with 403 PLAN_LIMIT_REACHED', async () => {
  // This suite's PROFESSIONAL plan allows 2 providers; the tenant has used aws and gcp.
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  try {
    await db.query(`UPDATE plans SET providers = 2 WHERE code = 'PROFESSIONAL'`);
  } finally {
    await db.end();
  }
  const refused = await runPipeline(api.url, pro.ownerKey, pro.tenantId, 'azure/cost/billing_cost');
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({
    error_code: 'PLAN_LIMIT_REACHED',
    details: { limit: 2, plan: 'PROFESSIONAL' },
  });
  // The providers it already uses still run.
  expect((await runPipeline(api.url, pro.ownerKey, pro.tenantId, 'aws/compute/usage_metrics')).status).toBe(
    201,
  );
});

it('admits exactly the concurrent quota from a burst of 100, and exactly the daily quota over the day', async () => {
  const first = await burst(100);
  const admitted = first.filter((r) => r.status === 201);
  expect(admitted).toHaveLength(3);
  const refused = first.filter((r) => r.status !== 201);
  for (const res of refused) {
    expect([409, 429]).toContain(res.status);
    if (res.status === 429) {
      expect(res.body).toMatchObject({
        error_code: 'QUOTA_EXCEEDED',
        details: { quota: 'concurrent_pipelines', limit: 3 },
      });
      expect(res.body.retry_after).toEqual(expect.any(Number));
      expect(res.headers.get('retry-after')).toBe(String(res.body.retry_after));
    } else expect(res.body.error_code).toBe('PIPELINE_ALREADY_RUNNING');
  }
  expect(refused.filter((r) => r.status === 429).length).toBeGreaterThan(80);
  let quota = await call(api.url, 'GET', `/api/v1/tenants/${starter.tenantId}/quota`, {
    credentials: starter.ownerKey,
  });
  expect(quota.body).toMatchObject({ usage: { daily_pipelines: 3, concurrent_pipelines: 3 } });

  // A worker finishes them; the next burst gets the rest of the day's quota, and no more.
  const worker = await startInProcessWorker(backends.env);
  try {
    for (const res of admitted)
      expect(
        await waitPipeline(api.url, starter.ownerKey, res.body.pipeline_logging_id as string),
      ).toMatchObject({
        status: 'COMPLETE',
      });
    const second = (await burst(100)).filter((r) => r.status === 201);
    expect(second).toHaveLength(3);
    for (const res of second)
      await waitPipeline(api.url, starter.ownerKey, res.body.pipeline_logging_id as string);
    const third = await burst(100);
    expect(third.filter((r) => r.status === 201)).toHaveLength(0);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const secondsLeft = Math.ceil((midnight.getTime() - Date.now()) / 1000);
    for (const res of third) {
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({
        error_code: 'QUOTA_EXCEEDED',
        details: { quota: 'daily_pipelines', limit: 6 },
      });
      expect(Math.abs((res.body.retry_after as number) - secondsLeft)).toBeLessThanOrEqual(60);
      expect(res.headers.get('retry-after')).toBe(String(res.body.retry_after));
    }
  } finally {
    await worker.stop();
  }
  quota = await call(api.url, 'GET', `/api/v1/tenants/${starter.tenantId}/quota`, {
    credentials: starter.ownerKey,
  });
  const runs = await call(api.url, 'GET', '/api/v1/pipelines/runs?limit=100', {
    credentials: starter.ownerKey,
  });
  expect(runs.body).toHaveLength(6);
  // Which six of the burst won is a race; the providers count is the distinct providers those six used.
  const used = new Set(
    (runs.body as unknown as { pipeline_id: string }[]).map((r) => r.pipeline_id.split('-')[1]),
  );
  expect(quota.body).toMatchObject({
    usage: { daily_pipelines: 6, concurrent_pipelines: 0, providers: used.size },
  });
}, 180_000);
