import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  spawnWorker,
  startTestApi,
  type TestBackends,
  waitFor,
  type WorkerProcess,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let db: Client;
let workflowId: string;

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  workflowId = await publish(
    api.url,
    acme,
    graph(
      [
        { id: 'tick', type: 'trigger.schedule' },
        { id: 'echo', type: 'transform', config: { expression: 'input.n' } },
      ],
      ['tick->echo'],
    ),
  );
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

const scheduled = async () =>
  (
    await db.query<{ n: number; keys: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM runs WHERE trigger_type = 'schedule'`,
    )
  ).rows[0];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedule triggers', () => {
  it('refuses an invalid cron or time zone with 400 and the reason', async () => {
    const bad = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
      credentials: acme.ownerKey,
      body: { workflow_id: workflowId, cron: '61 * * * *' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^cron '61 \* \* \* \*' is not valid: /);
    const tz = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
      credentials: acme.ownerKey,
      body: { workflow_id: workflowId, cron: '0 * * * *', timezone: 'Mars/Olympus' },
    });
    expect([tz.status, tz.body.message]).toEqual([400, "timezone 'Mars/Olympus' is not an IANA time zone"]);
  });

  it('fires once per tick with two workers, keeps firing across a restart, and stops when deleted', async () => {
    const workers: WorkerProcess[] = [await spawnWorker(backends.env), await spawnWorker(backends.env)];
    try {
      const created = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
        credentials: acme.ownerKey,
        body: { workflow_id: workflowId, cron: '* * * * * *', timezone: 'Europe/Paris', input: { n: 7 } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ cron: '* * * * * *', timezone: 'Europe/Paris', enabled: true });
      const times = created.body.next_fire_times as string[];
      expect(times).toHaveLength(5);
      expect(Date.parse(times[1]) - Date.parse(times[0])).toBe(1000);

      const began = Date.now();
      await sleep(4000);
      const counted = await scheduled();
      const elapsed = (Date.now() - began) / 1000;
      expect(counted.keys).toBe(counted.n);
      expect(counted.n).toBeGreaterThanOrEqual(Math.floor(elapsed) - 1);
      expect(counted.n).toBeLessThanOrEqual(Math.ceil(elapsed) + 1);

      // Both workers go away and new ones start: the schedule is re-registered from Postgres.
      for (const worker of workers.splice(0)) await worker.stop();
      workers.push(await spawnWorker(backends.env), await spawnWorker(backends.env));
      const before = (await scheduled()).n;
      await waitFor(async () => (await scheduled()).n >= before + 2, 'ticks after the restart', 10_000);
      const again = await scheduled();
      expect(again.keys).toBe(again.n);

      const list = await call(api.url, 'GET', '/api/v1/triggers/schedules', { credentials: acme.ownerKey });
      expect(list.body.items?.map((s) => s.id)).toEqual([created.body.id]);

      const paused = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
        credentials: acme.ownerKey,
        body: { workflow_id: workflowId, cron: '* * * * * *', enabled: false },
      });
      expect([paused.status, paused.body.next_fire_times]).toEqual([200, []]);
      await sleep(1500);
      const whilePaused = (await scheduled()).n;
      await sleep(2000);
      expect((await scheduled()).n).toBe(whilePaused);

      await call(api.url, 'POST', '/api/v1/triggers/schedule', {
        credentials: acme.ownerKey,
        body: { workflow_id: workflowId, cron: '* * * * * *', input: { n: 7 } },
      });
      const resumedFrom = (await scheduled()).n;
      await waitFor(async () => (await scheduled()).n > resumedFrom, 'ticks after re-enabling', 5000);
      expect(
        (
          await call(api.url, 'DELETE', `/api/v1/triggers/schedules/${created.body.id as string}`, {
            credentials: acme.ownerKey,
          })
        ).status,
      ).toBe(204);
      await sleep(1200);
      const afterDelete = (await scheduled()).n;
      await sleep(2000);
      expect((await scheduled()).n).toBe(afterDelete);
      expect(
        (
          await call(api.url, 'DELETE', `/api/v1/triggers/schedules/${created.body.id as string}`, {
            credentials: acme.ownerKey,
          })
        ).status,
      ).toBe(404);
      const { rows } = await db.query<{ input: unknown }>(
        `SELECT input FROM runs WHERE trigger_type = 'schedule' LIMIT 1`,
      );
      expect(rows[0].input).toEqual({ n: 7 });
    } finally {
      for (const worker of workers) await worker.stop();
    }
  });

  it("refuses a cron that fires more often than the tenant's plan allows", async () => {
    const starter = await onboardTenant(api.url, await loginAdmin(api.url), 'starterco', 'STARTER');
    const starterWorkflow = await publish(
      api.url,
      starter,
      graph([{ id: 'tick', type: 'trigger.schedule' }], []),
    );
    const schedule = (cron: string) =>
      call(api.url, 'POST', '/api/v1/triggers/schedule', {
        credentials: starter.ownerKey,
        body: { workflow_id: starterWorkflow, cron },
      });
    const tooOften = await schedule('* * * * *');
    expect(tooOften.status).toBe(400);
    expect(tooOften.body.message).toBe(
      "The STARTER plan allows a schedule to fire at most every 300 s; cron '* * * * *' fires every 60 s",
    );
    expect((await schedule('*/5 * * * *')).status).toBe(201);
  });

  it("spends the tenant's per-minute budget on ticks: a per-second schedule cannot crowd out the rest", async () => {
    const tiny = await onboardTenant(api.url, await loginAdmin(api.url), 'tinyco');
    const tinyWorkflow = await publish(api.url, tiny, graph([{ id: 'tick', type: 'trigger.schedule' }], []));
    await db.query(
      `INSERT INTO plans (code, name, daily_pipelines, concurrent_pipelines, team_members, providers,
                          requests_per_minute, requests_per_hour, min_schedule_interval_seconds)
       VALUES ('TINY', 'Tiny', 1, 1, 1, 1, 3, 1000, 1)`,
    );
    await db.query(`UPDATE tenants SET plan_code = 'TINY' WHERE id = 'tinyco'`);
    const worker = await spawnWorker(backends.env);
    try {
      const created = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
        credentials: tiny.ownerKey,
        body: { workflow_id: tinyWorkflow, cron: '* * * * * *' },
      });
      expect(created.status).toBe(201);
      const runs = async () =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = 'tinyco'`))
          .rows[0].n;
      await waitFor(
        () => worker.output.some((line) => line.includes('schedule tick skipped')),
        'a skipped tick',
        15_000,
      );
      // The budget is 3 a minute, shared with the tenant's API calls: the schedule never starts more than that.
      expect(await runs()).toBeLessThanOrEqual(3);
      const skipped = worker.output.find((line) => line.includes('schedule tick skipped')) ?? '';
      expect(JSON.parse(skipped)).toMatchObject({ level: 'warn', tenant_id: 'tinyco' });
    } finally {
      await worker.stop();
    }
  });
});
