import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { Transactions } from '../../../src/core/database/transaction';
import { JobQueue } from '../../../src/core/queue/job-queue.service';
import { vouchedTenant } from '../../../src/core/tenancy/tenant-id';
import { EngineService, jobIdOf } from '../../../src/modules/engine/engine.service';
import { RunReads } from '../../../src/modules/engine/persistence/run-reads';
import { WorkflowsService } from '../../../src/modules/workflows/workflows.service';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, runOf, startRun, stepsOf, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let other: OnboardedTenant;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends({
    ENGINE_EXPRESSION_TIMEOUT_MS: '6000',
    ENGINE_BACKOFF_MS: '50',
    ENGINE_RECONCILE_EVERY_MS: '500',
    ENGINE_RECONCILE_AFTER_MS: '1000',
    RUN_RETENTION_DAYS: '30',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

const FOREVER = '($f := function($x){ $f($x) }; $f(1))';
const post = (path: string, tenant = acme, body?: unknown) =>
  call(api.url, 'POST', `/api/v1${path}`, { credentials: tenant.ownerKey, body });

const transformFlow = (expression: string) =>
  graph(
    [
      { id: 'start', type: 'trigger.manual' },
      { id: 'work', type: 'transform', config: { expression } },
    ],
    ['start->work'],
  );

describe('engine: one tenant cannot hold the engine', () => {
  it("fails a transform that loops forever with a clear error, while another tenant's runs go on", async () => {
    const forever = await publish(api.url, acme, transformFlow(FOREVER));
    const quick = await publish(api.url, other, transformFlow('input.n + 1'));
    const stuck = (await startRun(api.url, acme, forever)).body.id as string;
    await waitFor(async () => (await stepsOf(api.url, acme, stuck)).length > 0, 'the looping run to start');
    const others = await Promise.all(
      [1, 2, 3].map(async (n) => (await startRun(api.url, other, quick, { n })).body.id as string),
    );
    for (const [i, id] of others.entries()) {
      const run = await waitForStatus(api.url, other, id, ['completed', 'failed'], 10_000);
      expect(run.context.steps.work).toEqual({ status: 'completed', output: i + 2 });
    }
    // The other tenant's runs finished while the loop was still being evaluated, not after its time limit.
    const meanwhile = await call(api.url, 'GET', `/api/v1/runs/${stuck}`, { credentials: acme.ownerKey });
    expect(['pending', 'running']).toContain(meanwhile.body.status);
    const failed = await waitForStatus(api.url, acme, stuck, ['failed', 'completed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe("step 'work' failed: expression took longer than 6000 ms");
  });

  it('cancels a run whose expression is evaluating: the evaluation is stopped at once', async () => {
    const forever = await publish(api.url, acme, transformFlow(FOREVER));
    const runId = (await startRun(api.url, acme, forever)).body.id as string;
    const engineQueue = api.app.get(JobQueue).queue('engine');
    // The step evaluates inline, in the unit of work that completes the trigger, under the trigger's job: a job
    // active across two probes 250 ms apart is the evaluation (a trigger alone takes milliseconds).
    let activeFor = 0;
    await waitFor(
      async () => {
        activeFor = (await engineQueue.getActiveCount()) === 1 ? activeFor + 1 : 0;
        return activeFor >= 2;
      },
      'the run to be evaluating',
      15_000,
      250,
    );
    const cancelled = await post(`/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    // The evaluation was stopped, not left to its time limit: the job ends long before the 6 s would pass.
    await waitFor(async () => (await engineQueue.getActiveCount()) === 0, 'the evaluation to stop', 3000);
    // Nothing of the evaluation landed: whatever steps the run has are cancelled, none completed.
    const steps = await stepsOf(api.url, acme, runId);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((step) => step.status === 'cancelled')).toBe(true);
  });
});

describe('engine: units of work', () => {
  it('enqueues nothing for a run started inside a transaction that then rolls back', async () => {
    const id = await publish(api.url, acme, transformFlow('1'));
    const workflow = await api.app.get(WorkflowsService).require(acme.tenantId, id);
    let runId = '';
    await expect(
      api.app.get(Transactions).run(async () => {
        const { run } = await api.app
          .get(EngineService)
          .start({ tenantId: acme.tenantId, workflow, input: {}, triggerType: 'manual' });
        runId = run.id;
        throw new Error('the caller rolls back');
      }),
    ).rejects.toThrow('the caller rolls back');
    expect(runId).not.toBe('');
    const job = await api.app
      .get(JobQueue)
      .queue('engine')
      .getJob(jobIdOf({ runId, stepId: 'start', attempt: 1, kind: 'execute' }));
    expect(job).toBeUndefined();
    expect((await db.query('SELECT 1 FROM runs WHERE id = $1', [runId])).rowCount).toBe(0);
  });

  it('never leaves a workflow.call parent waiting for a child that was not created', async () => {
    const child = await publish(api.url, acme, transformFlow('input.n * 3'));
    const parent = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'sub', type: 'workflow.call', config: { workflow_id: child, input: { n: 2 } } },
        ],
        ['start->sub'],
      ),
    );
    // The first child insert fails (a sequence, not a row: the failing transaction rolls back whatever it wrote).
    await db.query(`CREATE SEQUENCE child_failures`);
    await db.query(`
      CREATE FUNCTION fail_first_child() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.trigger_type = 'workflow' AND nextval('child_failures') = 1 THEN
          RAISE EXCEPTION 'child insert failed';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER fail_first_child BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION fail_first_child()`,
    );
    try {
      const runId = (await startRun(api.url, acme, parent)).body.id as string;
      const run = await waitForStatus(api.url, acme, runId, ['completed', 'failed'], 10_000);
      expect(run.status).toBe('completed');
      expect(
        (run.context.steps.sub.output as { context: { steps: { work: unknown } } }).context.steps.work,
      ).toEqual({ status: 'completed', output: 6 });
      expect((await stepsOf(api.url, acme, runId)).find((s) => s.step_id === 'sub')?.attempt).toBe(2);
    } finally {
      await db.query(`DROP TRIGGER fail_first_child ON runs`);
    }
  });

  it('starts a lost child run again from its deterministic key', async () => {
    const child = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval' },
        ],
        ['start->ok'],
      ),
    );
    const parent = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'sub', type: 'workflow.call', config: { workflow_id: child } },
        ],
        ['start->sub'],
      ),
    );
    const runId = (await startRun(api.url, acme, parent)).body.id as string;
    const key = `call:${runId}:sub:1`;
    const childOf = async () =>
      (
        await db.query<{ id: string; status: string }>(
          'SELECT id, status FROM runs WHERE idempotency_key = $1',
          [key],
        )
      ).rows[0];
    const first = await waitFor(
      async () => ((await childOf())?.status === 'paused' ? childOf() : undefined),
      'the child',
    );
    await db.query('DELETE FROM runs WHERE id = $1', [first.id]);
    const again = await waitFor(
      async () => ((await childOf())?.status === 'paused' ? childOf() : undefined),
      'the child to be started again',
    );
    expect(again.id).not.toBe(first.id);
    expect(
      (await post(`/runs/${again.id}/resume`, acme, { step_id: 'ok', data: { by: 'ana' } })).status,
    ).toBe(200);
    const done = await waitForStatus(api.url, acme, runId, ['completed', 'failed']);
    expect(done.status).toBe('completed');
  });
});

describe('engine: reconciler and retention', () => {
  it('finds lost work behind any number of healthy waits', async () => {
    const waiting = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval' },
        ],
        ['start->ok'],
      ),
    );
    const parked = (await startRun(api.url, acme, waiting)).body.id as string;
    await waitForStatus(api.url, acme, parked, ['paused']);
    // 1200 healthy waits older than anything else: approvals without a deadline, delays due tomorrow.
    await db.query(
      `INSERT INTO step_runs (run_id, tenant_id, step_id, type, status, not_before, updated_at)
       SELECT $1, $2, 'fake-' || i, CASE WHEN i % 2 = 0 THEN 'approval' ELSE 'delay' END,
              CASE WHEN i % 2 = 0 THEN 'waiting' ELSE 'queued' END,
              CASE WHEN i % 2 = 0 THEN NULL ELSE now() + interval '1 day' END,
              now() - interval '1 day'
         FROM generate_series(1, 1200) AS i`,
      [parked, acme.tenantId],
    );
    const delayed = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 60_000 } },
          { id: 'after', type: 'transform', config: { expression: '"found"' } },
        ],
        ['start->wait', 'wait->after'],
      ),
    );
    const lost = (await startRun(api.url, acme, delayed)).body.id as string;
    await waitFor(
      async () => (await stepsOf(api.url, acme, lost)).some((s) => s.step_id === 'wait'),
      'the delay',
    );
    // Its job vanishes (a flushed Redis) and its delay is long over.
    await (
      await api.app
        .get(JobQueue)
        .queue('engine')
        .getJob(jobIdOf({ runId: lost, stepId: 'wait', attempt: 1, kind: 'execute' }))
    )?.remove();
    await db.query(
      `UPDATE step_runs SET not_before = now() - interval '1 hour', updated_at = now() - interval '1 hour'
        WHERE run_id = $1 AND step_id = 'wait'`,
      [lost],
    );
    const run = await waitForStatus(api.url, acme, lost, ['completed', 'failed'], 15_000);
    expect(run.context.steps.after).toEqual({ status: 'completed', output: 'found' });
  });

  it('deletes runs that ended before the retention period, with their steps and events, and keeps the rest', async () => {
    const id = await publish(api.url, acme, transformFlow('1'));
    const [old, recent] = await Promise.all([startRun(api.url, acme, id), startRun(api.url, acme, id)]);
    const oldId = old.body.id as string;
    const recentId = recent.body.id as string;
    await waitForStatus(api.url, acme, oldId, ['completed']);
    await waitForStatus(api.url, acme, recentId, ['completed']);
    await db.query(`UPDATE runs SET completed_at = now() - interval '31 days' WHERE id = $1`, [oldId]);
    await api.app.get(JobQueue).enqueue('maintenance.run-retention', {});
    await waitFor(
      async () =>
        (await call(api.url, 'GET', `/api/v1/runs/${oldId}`, { credentials: acme.ownerKey })).status === 404,
      'the old run to be deleted',
    );
    const left = await db.query(
      `SELECT (SELECT count(*) FROM step_runs WHERE run_id = $1)::int AS steps,
              (SELECT count(*) FROM run_events WHERE run_id = $1)::int AS events`,
      [oldId],
    );
    expect(left.rows[0]).toEqual({ steps: 0, events: 0 });
    expect((await runOf(api.url, acme, recentId)).status).toBe('completed');
  });
});

describe('engine: run reads take the tenant', () => {
  it("finds none of a run's data for another tenant, whichever read asks", async () => {
    const id = await publish(api.url, acme, transformFlow('1'));
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    await waitForStatus(api.url, acme, runId, ['completed']);
    const reads = api.app.get(RunReads);
    const [mine, theirs] = [vouchedTenant(acme.tenantId), vouchedTenant(other.tenantId)];
    expect(await reads.findRun(mine, runId)).toMatchObject({ id: runId, status: 'completed' });
    expect((await reads.stepsOf(mine, runId)).length).toBeGreaterThan(0);
    expect((await reads.events(mine, runId, 0, 100)).length).toBeGreaterThan(0);
    expect(await reads.findRun(theirs, runId)).toBeUndefined();
    expect(await reads.snapshot(theirs, runId)).toBeUndefined();
    expect(await reads.stepsOf(theirs, runId)).toEqual([]);
    expect(await reads.events(theirs, runId, 0, 100)).toEqual([]);
    expect(await reads.ownerOf(runId)).toBe(acme.tenantId);
  });
});
