import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findFreePort } from '../../../src/core/net/free-port';
import { adminToken, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  eventsOf,
  expectGapFree,
  graph,
  publish,
  startRun,
  stepsOf,
  waitForStatus,
} from '../../support/engine';
import {
  createTestBackends,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  relaxRateLimits,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let metricsPort: number;

beforeAll(async () => {
  backends = await createTestBackends({ HTTP_STEP_ALLOW_HOSTS: '127.0.0.1' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  metricsPort = await findFreePort(19464);
  worker = await startInProcessWorker({ ...backends.env, WORKER_METRICS_PORT: String(metricsPort) });
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

describe('engine: flow', () => {
  it('runs a linear workflow to completion, each output visible to the next step', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
          { id: 'plus', type: 'transform', config: { expression: 'steps.double.output + 1' } },
        ],
        ['start->double', 'double->plus'],
      ),
    );
    const started = await startRun(api.url, acme, id, { n: 20 });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      workflow_id: id,
      workflow_version: 1,
      trigger_type: 'manual',
      input: { n: 20 },
    });
    const run = await waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed']);
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.context.steps).toEqual({
      start: { status: 'completed', output: { n: 20 } },
      double: { status: 'completed', output: 40 },
      plus: { status: 'completed', output: 41 },
    });
    const events = await eventsOf(api.url, acme, run.id);
    expectGapFree(events);
    expect(events.at(0)?.event_type).toBe('run.created');
    expect(events.at(-1)?.event_type).toBe('run.completed');
  });

  it("keeps a step's credentials for the steps after it, and shows none in the run's events", async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          {
            id: 'login',
            type: 'transform',
            config: {
              expression: '{"user": "ada", "access_token": "tok_" & input.n, "auth": {"password": "pw"}}',
            },
          },
          { id: 'use', type: 'transform', config: { expression: 'steps.login.output.access_token' } },
        ],
        ['start->login', 'login->use'],
      ),
    );
    const started = await startRun(api.url, acme, id, { n: 7 });
    const run = await waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed']);
    expect(run.context.steps.use).toEqual({ status: 'completed', output: 'tok_7' });
    const completed = (await eventsOf(api.url, acme, run.id)).find(
      (e) => e.event_type === 'step.completed' && e.step_id === 'login',
    );
    expect(completed?.data).toEqual({
      attempt: 1,
      output: { user: 'ada', access_token: '[redacted]', auth: { password: '[redacted]' } },
    });
  });

  it('fans out and joins: the join runs once, after both branches', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'a', type: 'transform', config: { expression: '1' } },
          { id: 'b', type: 'delay', config: { duration_ms: 300 } },
          {
            id: 'join',
            type: 'transform',
            config: { expression: 'steps.a.output + steps.b.output.waited_ms' },
          },
        ],
        ['start->a', 'start->b', 'a->join', 'b->join'],
      ),
    );
    const run = await waitForStatus(api.url, acme, (await startRun(api.url, acme, id)).body.id as string, [
      'completed',
      'failed',
    ]);
    expect(run.context.steps.join).toEqual({ status: 'completed', output: 301 });
    const events = await eventsOf(api.url, acme, run.id);
    expect(events.filter((e) => e.event_type === 'step.started' && e.step_id === 'join')).toHaveLength(1);
  });

  it('takes one branch of a condition and skips the other, without blocking a join', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'big', type: 'condition', config: { expression: 'input.total > 100' } },
          { id: 'yes', type: 'transform', config: { expression: '"big"' } },
          { id: 'no', type: 'transform', config: { expression: '"small"' } },
          { id: 'after_no', type: 'transform', config: { expression: '"after"' } },
          {
            id: 'end',
            type: 'transform',
            config: { expression: '$exists(steps.yes.output) ? steps.yes.output : steps.no.output' },
          },
        ],
        ['start->big', 'big->yes:true', 'big->no:false', 'no->after_no', 'yes->end', 'after_no->end'],
      ),
    );
    const big = await waitForStatus(
      api.url,
      acme,
      (await startRun(api.url, acme, id, { total: 500 })).body.id as string,
      ['completed', 'failed'],
    );
    expect(big.status).toBe('completed');
    expect(big.context.steps.no.status).toBe('skipped');
    expect(big.context.steps.after_no.status).toBe('skipped');
    expect(big.context.steps.end.output).toBe('big');
    const small = await waitForStatus(
      api.url,
      acme,
      (await startRun(api.url, acme, id, { total: 5 })).body.id as string,
      ['completed', 'failed'],
    );
    expect(small.context.steps.yes.status).toBe('skipped');
    expect(small.context.steps.end.output).toBe('small');
    expect((await stepsOf(api.url, acme, small.id)).find((s) => s.step_id === 'yes')?.status).toBe('skipped');
  });

  it('counts runs and times steps: the API and the worker each expose their metrics', async () => {
    const workerText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(workerText).toMatch(
      /conflux_step_duration_seconds_count\{type="transform",outcome="completed"\} [1-9]\d*/,
    );
    expect(workerText).toMatch(/conflux_runs_finished_total\{status="completed",tenant_id="acme"\} [1-9]\d*/);
    const apiText = await (
      await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${adminToken()}` } })
    ).text();
    expect(apiText).toMatch(/conflux_runs_started_total\{trigger_type="manual",tenant_id="acme"\} [1-9]\d*/);
    expect(apiText).toContain('conflux_queue_jobs{queue="engine",state="waiting"}');
  });
});
