import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, recordingServer, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

/**
 * What one step costs, counted at the clients every process here uses (pg's Client.query, ioredis' sendCommand):
 * a change that adds round trips to the engine's hot path fails this instead of slowing every run silently.
 * Raise a budget only on purpose. What a step costs now: an HTTP step 1.6 statements and 3.4 Redis commands (the
 * job that completes a step, pure or not, inserts its I/O successor already claimed and runs it, so a chain pays
 * no claim and no queue hop after its trigger; a job reads its run and steps in one statement (a new run's first
 * job carries them, and reads nothing) and writes each transition, its step rows, the run's row and its events,
 * in one more, with no transaction, on condition that no other transition came in between, and the job's next
 * transition needs no read at all; a top-level run of a
 * tenant without a concurrent-runs cap starts in one statement), a pure step 0.3 statements and 0.9 commands (run
 * inline, in the unit of work of the step before it). The budgets leave room for two stray statements per run (a
 * cache refilled meanwhile, a transition done again under the run's lock), for the publishes' batching to vary,
 * and, for pure steps, for the inline time cap: on a loaded machine a chain of them splits over more jobs (3.2
 * statements and 2.1 commands a step were seen in a full CI run when a quiet one measured 2.5, when a job's
 * transition took five statements).
 */
const BUDGET = {
  io: { sql: 3, redis: 4.5 },
  pure: { sql: 3, redis: 8 },
};

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let server: Awaited<ReturnType<typeof recordingServer>>;
const counts = { sql: 0, redis: 0 };

beforeAll(async () => {
  // Counting wrappers around the one method every query and every command goes through.
  const pg = Client.prototype as unknown as Record<'query', (this: Client, ...args: unknown[]) => unknown>;
  const query = pg.query;
  pg.query = function (...args) {
    counts.sql += 1;
    return query.apply(this, args);
  };
  const redis = Redis.prototype as unknown as Record<
    'sendCommand',
    (this: Redis, ...args: unknown[]) => unknown
  >;
  const send = redis.sendCommand;
  redis.sendCommand = function (...args) {
    counts.redis += 1;
    return send.apply(this, args);
  };
  server = await recordingServer();
  // Only the steps' own round trips: no reconciler tick, metrics push or telemetry inside the counted window.
  backends = await createTestBackends({
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
    ENGINE_RECONCILE_EVERY_MS: '3600000',
    METRICS_PUSH_INTERVAL_MS: '3600000',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  await server?.close();
});

/** Statements and commands per step of one run of `steps` steps after the trigger, start to finish. */
async function perStep(definition: ReturnType<typeof graph>, steps: number) {
  const id = await publish(api.url, acme, definition);
  await waitForStatus(api.url, acme, (await startRun(api.url, acme, id)).body.id as string, ['completed']);
  // Counted from the start request to the completed run, minus the polling that watches for it.
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  const before = { ...counts };
  const runId = (await startRun(api.url, acme, id)).body.id as string;
  let polls = 0;
  for (;;) {
    polls += 1;
    const { rows } = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId]);
    if (rows[0]?.status === 'completed') break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const used = { sql: counts.sql - before.sql - polls, redis: counts.redis - before.redis };
  await db.end();
  return { sql: used.sql / steps, redis: used.redis / steps };
}

describe('engine: round trips per step', () => {
  it('stays within the SQL and Redis budget for a chain of HTTP steps and a chain of pure steps', async () => {
    const http = Array.from({ length: 5 }, (_, i) => ({
      id: `h${i}`,
      type: 'http.request',
      config: { method: 'GET', url: `${server.url}/ok` },
    }));
    const io = await perStep(
      graph(
        [{ id: 'start', type: 'trigger.manual' }, ...http],
        ['start->h0', 'h0->h1', 'h1->h2', 'h2->h3', 'h3->h4'],
      ),
      5,
    );
    const transforms = Array.from({ length: 10 }, (_, i) => ({
      id: `t${i}`,
      type: 'transform',
      config: { expression: i === 0 ? 'input' : `steps.t${i - 1}.output` },
    }));
    const pure = await perStep(
      graph(
        [{ id: 'start', type: 'trigger.manual' }, ...transforms],
        ['start->t0', ...transforms.slice(1).map((t, i) => `t${i}->${t.id}`)],
      ),
      10,
    );
    console.log(`per step: http ${JSON.stringify(io)}, pure ${JSON.stringify(pure)}`);
    expect(io.sql).toBeLessThanOrEqual(BUDGET.io.sql);
    expect(io.redis).toBeLessThanOrEqual(BUDGET.io.redis);
    expect(pure.sql).toBeLessThanOrEqual(BUDGET.pure.sql);
    expect(pure.redis).toBeLessThanOrEqual(BUDGET.pure.redis);
  });
});
