import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  eventsOf,
  expectGapFree,
  graph,
  publish,
  runOf,
  startRun,
  waitForStatus,
} from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';

// acme is on STARTER, given 3 concurrent runs here; beta is on SCALE, left without a limit. Admissions are
// awaited for at most 5 s, shorter than the reconciler's round: the run that ends a run admits the next.
let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let db: Client;
let acme: OnboardedTenant;
let beta: OnboardedTenant;
const approvals = new Map<OnboardedTenant, string>();
// Each run stays open at its approval until resumed: it holds its slot as long as the test wants.
const approvalFlow = graph(
  [
    { id: 'start', type: 'trigger.manual' },
    { id: 'ok', type: 'approval' },
  ],
  ['start->ok'],
);

beforeAll(async () => {
  backends = await createTestBackends({ ENGINE_RECONCILE_EVERY_MS: '8000' });
  await relaxRateLimits(backends);
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  await db.query(`UPDATE plans SET concurrent_runs = 3 WHERE code = 'STARTER'`);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme', 'STARTER');
  beta = await onboardTenant(api.url, admin, 'beta', 'SCALE');
  for (const tenant of [acme, beta]) approvals.set(tenant, await publish(api.url, tenant, approvalFlow));
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await db?.end();
  await backends?.cleanup();
});

const startMany = async (tenant: OnboardedTenant, n: number) =>
  (await Promise.all(Array.from({ length: n }, () => startRun(api.url, tenant, approvals.get(tenant)!)))).map(
    (res) => {
      expect(res.status).toBe(201);
      return res.body.id as string;
    },
  );

async function statuses(runIds: string[]): Promise<Record<string, string>> {
  const { rows } = await db.query<{ id: string; status: string; held: boolean }>(
    'SELECT id, status, held FROM runs WHERE id = ANY($1)',
    [runIds],
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.held && r.status === 'pending' ? 'held' : r.status]));
}

const count = (all: Record<string, string>, status: string) =>
  Object.values(all).filter((s) => s === status).length;

const resume = (tenant: OnboardedTenant, runId: string) =>
  call(api.url, 'POST', `/api/v1/runs/${runId}/resume`, {
    credentials: tenant.ownerKey,
    body: { step_id: 'ok', data: {} },
  });

describe('per-tenant run concurrency (the plan concurrent_runs)', () => {
  let acmeRuns: string[];

  it('holds the runs a burst starts past the limit: pending, no steps, and never more than the limit admitted', async () => {
    acmeRuns = await startMany(acme, 10);
    await waitFor(
      async () => count(await statuses(acmeRuns), 'paused') === 3,
      '3 runs to reach their approval',
    );
    const now = await statuses(acmeRuns);
    expect([count(now, 'paused'), count(now, 'held')]).toEqual([3, 7]);

    const quota = await call(api.url, 'GET', '/api/v1/tenants/acme/quota', { credentials: acme.ownerKey });
    expect(quota.body).toMatchObject({ limits: { concurrent_runs: 3 }, usage: { concurrent_runs: 3 } });

    const heldId = acmeRuns.find((id) => now[id] === 'held')!;
    const held = await runOf(api.url, acme, heldId);
    expect(held.status).toBe('pending');
    expect(held.context.steps).toEqual({});
    const [created] = await eventsOf(api.url, acme, heldId);
    expect(created).toMatchObject({ event_type: 'run.created', data: { held: true, concurrent_runs: 3 } });
  });

  it("leaves another tenant's runs alone", async () => {
    const betaRuns = await startMany(beta, 8);
    await waitFor(
      async () => count(await statuses(betaRuns), 'paused') === 8,
      "all of beta's runs to be admitted",
    );
  });

  it('admits the oldest held run as soon as one ends, whether it completes or is cancelled', async () => {
    const before = await statuses(acmeRuns);
    const open = acmeRuns.filter((id) => before[id] === 'paused');
    const oldestHeld = acmeRuns.filter((id) => before[id] === 'held');
    const { rows } = await db.query<{ id: string }>(
      'SELECT id FROM runs WHERE id = ANY($1) ORDER BY created_at, id LIMIT 1',
      [oldestHeld],
    );

    expect((await resume(acme, open[0])).status).toBe(200);
    await waitForStatus(api.url, acme, open[0], ['completed']);
    await waitForStatus(api.url, acme, rows[0].id, ['paused'], 5000);
    const cancelled = await call(api.url, 'POST', `/api/v1/runs/${open[1]}/cancel`, {
      credentials: acme.ownerKey,
    });
    expect(cancelled.status).toBe(200);
    // The next oldest takes the cancelled run's slot: three at their approval again, five still held.
    await waitFor(
      async () => count(await statuses(acmeRuns), 'paused') === 3,
      'a second held run to be admitted',
      5000,
    );
    expect(count(await statuses(acmeRuns), 'held')).toBe(5);

    const admitted = await eventsOf(api.url, acme, rows[0].id);
    expect(admitted.map((e) => e.event_type).slice(0, 3)).toEqual([
      'run.created',
      'run.admitted',
      'step.queued',
    ]);
    expectGapFree(admitted);
  });

  it('cancels a held run without it ever taking a slot', async () => {
    const now = await statuses(acmeRuns);
    const heldId = acmeRuns.find((id) => now[id] === 'held')!;
    const cancelled = await call(api.url, 'POST', `/api/v1/runs/${heldId}/cancel`, {
      credentials: acme.ownerKey,
    });
    expect(cancelled.status).toBe(200);
    const after = await statuses(acmeRuns);
    expect([after[heldId], count(after, 'paused'), count(after, 'held')]).toEqual(['cancelled', 3, 4]);
  });

  it('runs a burst of short runs through 3 slots: all complete, never more than 3 at once', async () => {
    await db.query(`UPDATE plans SET concurrent_runs = 3 WHERE code = 'PROFESSIONAL'`);
    const gamma = await onboardTenant(api.url, await loginAdmin(api.url), 'gamma', 'PROFESSIONAL');
    const workflowId = await publish(
      api.url,
      gamma,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 100 } },
        ],
        ['start->wait'],
      ),
    );
    const runIds = (
      await Promise.all(Array.from({ length: 30 }, () => startRun(api.url, gamma, workflowId)))
    ).map((res) => res.body.id as string);
    // Twelve rounds of three runs, each admitted by the end of one before it: well within the reconciler's round.
    await waitFor(
      async () => count(await statuses(runIds), 'completed') === 30,
      'the 30 runs to complete',
      7000,
    );
    const { rows } = await db.query<{ most: number }>(
      `SELECT max(n)::int AS most FROM (
         SELECT sum(delta) OVER (ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS n FROM (
           SELECT started_at AS at, 1 AS delta FROM runs WHERE id = ANY($1)
           UNION ALL SELECT completed_at, -1 FROM runs WHERE id = ANY($1)) edges) overlap`,
      [runIds],
    );
    expect(rows[0].most).toBeLessThanOrEqual(3);
  });

  it('refuses to retry a failed run while every slot is in use (409), and retries it once one frees', async () => {
    const delta = await onboardTenant(api.url, await loginAdmin(api.url), 'delta', 'PROFESSIONAL');
    const failing = await publish(
      api.url,
      delta,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'boom', type: 'transform', config: { expression: '$error("boom")' } },
        ],
        ['start->boom'],
      ),
    );
    const failedId = (await startRun(api.url, delta, failing)).body.id as string;
    await waitForStatus(api.url, delta, failedId, ['failed']);
    approvals.set(delta, await publish(api.url, delta, approvalFlow));
    const open = await startMany(delta, 3);
    await waitFor(
      async () => count(await statuses(open), 'paused') === 3,
      "delta's 3 runs to hold every slot",
    );

    const retry = () =>
      call(api.url, 'POST', `/api/v1/runs/${failedId}/retry`, { credentials: delta.ownerKey });
    const refused = await retry();
    expect([refused.status, refused.body.error_code]).toEqual([409, 'CONFLICT']);
    expect(refused.body.message).toMatch(/concurrent runs are all in use/);
    expect((await runOf(api.url, delta, failedId)).status).toBe('failed');

    expect((await resume(delta, open[0])).status).toBe(200);
    await waitForStatus(api.url, delta, open[0], ['completed'], 5000);
    expect((await retry()).status).toBe(200);
  });

  it('admits every held run once the plan lifts its limit (the reconciler)', async () => {
    await db.query(`UPDATE plans SET concurrent_runs = NULL WHERE code = 'STARTER'`);
    await waitFor(
      async () => count(await statuses(acmeRuns), 'paused') === 7,
      'the four held runs to be admitted',
      20_000,
    );
    expect(count(await statuses(acmeRuns), 'held')).toBe(0);
  });
});
