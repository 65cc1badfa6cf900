import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, httpChain, publish, recordingServer, runOf, startRun, stepsOf } from '../../support/engine';
import {
  createTestBackends,
  dropQueuePrefix,
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
let server: Awaited<ReturnType<typeof recordingServer>>;
let db: Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  server = await recordingServer();
  backends = await createTestBackends({
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
    WORKER_LOCK_MS: '2000',
    ENGINE_RECONCILE_EVERY_MS: '1000',
    ENGINE_RECONCILE_AFTER_MS: '3000',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  for (const worker of workers) await worker.stop('SIGKILL');
  await db?.end();
  await api?.close();
  await backends?.cleanup();
  await server?.close();
});

async function startMany(workflowId: string, count: number): Promise<string[]> {
  const runs = await Promise.all(
    Array.from({ length: count }, (_, i) => startRun(api.url, acme, workflowId, { i })),
  );
  return runs.map((r) => r.body.id as string);
}

async function waitAllCompleted(runIds: string[], timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM runs WHERE id = ANY($1) AND status = 'completed'`,
        [runIds],
      );
      return rows[0].n === runIds.length;
    },
    `${runIds.length} runs to complete`,
    timeoutMs,
    250,
  );
}

describe('engine: durability', () => {
  it('loses no run and completes no step twice when the worker is killed -9 mid-flight', async () => {
    const id = await publish(api.url, acme, httpChain(`${server.url}/slow/60`, 5));
    const first = await spawnWorker(backends.env);
    workers.push(first);
    const runIds = await startMany(id, 50);
    await waitFor(() => server.requests.length >= 60, 'the runs to be well under way', 30_000);
    await first.stop('SIGKILL');
    const inFlight = server.requests.length;
    expect(inFlight).toBeLessThan(250);

    workers.push(await spawnWorker(backends.env));
    await waitAllCompleted(runIds, 90_000);

    const keys = new Set(server.requests.map((r) => r.idempotencyKey));
    expect(keys.size).toBe(250);
    for (const runId of runIds)
      for (const step of ['h1', 'h2', 'h3', 'h4', 'h5']) expect(keys.has(`${runId}:${step}`)).toBe(true);
    const completions = await db.query<{ n: number; distinct_steps: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (run_id, step_id))::int AS distinct_steps
         FROM run_events WHERE event_type = 'step.completed' AND run_id = ANY($1)`,
      [runIds],
    );
    expect(completions.rows[0]).toEqual({ n: 300, distinct_steps: 300 });
    const sample = await stepsOf(api.url, acme, runIds[0]);
    expect(sample.every((s) => s.status === 'completed')).toBe(true);
  });

  it('runs a step carried on from its predecessor again when the worker carrying it is killed -9', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'h1', type: 'http.request', config: { method: 'POST', url: `${server.url}/ok/carry` } },
          {
            id: 'h2',
            type: 'http.request',
            config: { method: 'POST', url: `${server.url}/slow/5000/carry` },
          },
          { id: 'h3', type: 'http.request', config: { method: 'POST', url: `${server.url}/ok/carry` } },
        ],
        ['start->h1', 'h1->h2', 'h2->h3'],
      ),
    );
    const slowCalls = () => server.requests.filter((r) => r.path === '/slow/5000/carry');
    // The one worker: the one killed must be the one carrying h2.
    for (const earlier of workers.splice(0)) await earlier.stop('SIGKILL');
    const first = await spawnWorker(backends.env);
    workers.push(first);
    const [runId] = await startMany(id, 1);
    await waitFor(() => slowCalls().length === 1, 'h2 to be under way', 30_000);
    // h1 and h2 went out on no queue: the job that ran the trigger claimed h1, and h2 after it, under its own id.
    const { rows } = await db.query<{ status: string; carried_by: string | null }>(
      `SELECT status, carried_by FROM step_runs WHERE run_id = $1 AND step_id = 'h2'`,
      [runId],
    );
    expect(rows[0]).toEqual({ status: 'running', carried_by: `${runId}_1_start` });
    await first.stop('SIGKILL');

    workers.push(await spawnWorker(backends.env));
    await waitAllCompleted([runId], 60_000);
    // Delivered again (the trigger's job, redelivered once it stalled, or the reconciler): once more, under the same key.
    expect(slowCalls().map((r) => r.idempotencyKey)).toEqual([`${runId}:h2`, `${runId}:h2`]);
    const events = await db.query<{ step_id: string; n: number }>(
      `SELECT step_id, count(*)::int AS n FROM run_events
        WHERE run_id = $1 AND event_type = 'step.completed' GROUP BY step_id ORDER BY step_id`,
      [runId],
    );
    expect(events.rows).toEqual([
      { step_id: 'h1', n: 1 },
      { step_id: 'h2', n: 1 },
      { step_id: 'h3', n: 1 },
      { step_id: 'start', n: 1 },
    ]);
    const after = await db.query(
      `SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1 AND carried_by IS NOT NULL`,
      [runId],
    );
    expect(after.rows[0]).toEqual({ n: 0 });
  });

  it('drains a worker sent SIGTERM under load: its steps in flight finish on it, none runs twice', async () => {
    const id = await publish(api.url, acme, httpChain(`${server.url}/slow/60/term`, 5));
    const calls = () => server.requests.filter((r) => r.path === '/slow/60/term');
    const first = await spawnWorker({ ...backends.env, WORKER_SHUTDOWN_GRACE_MS: '15000' });
    workers.push(first);
    const runIds = await startMany(id, 50);
    await waitFor(() => calls().length >= 60, 'the runs to be well under way', 30_000);
    // A clean exit (0) means it finished what it held within the grace period instead of being cut off.
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(calls().length).toBeLessThan(250);

    workers.push(await spawnWorker(backends.env));
    await waitAllCompleted(runIds, 90_000);

    // Every step called its endpoint exactly once: nothing the draining worker held was handed out again.
    const keys = calls().map((r) => r.idempotencyKey);
    expect(keys).toHaveLength(250);
    expect(new Set(keys).size).toBe(250);
    const completions = await db.query<{ n: number; distinct_steps: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (run_id, step_id))::int AS distinct_steps
         FROM run_events WHERE event_type = 'step.completed' AND run_id = ANY($1)`,
      [runIds],
    );
    expect(completions.rows[0]).toEqual({ n: 300, distinct_steps: 300 });
  });

  it('completes every run when Redis loses all of its keys mid-flight (the reconciler re-delivers)', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 2500 } },
          { id: 'done', type: 'transform', config: { expression: 'input.i' } },
        ],
        ['start->wait', 'wait->done'],
      ),
    );
    const runIds = await startMany(id, 20);
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM step_runs WHERE run_id = ANY($1) AND step_id = 'wait' AND status = 'queued'`,
        [runIds],
      );
      return rows[0].n === 20;
    }, 'every run to be waiting in its delay');
    // What a flushed or failed-over Redis looks like to Conflux: its keys are gone (never FLUSHALL a shared server).
    await dropQueuePrefix(backends.queuePrefix);

    await waitAllCompleted(runIds, 45_000);
    const run = await runOf(api.url, acme, runIds[7]);
    expect(run.context.steps.done).toEqual({ status: 'completed', output: 7 });
  });
});
