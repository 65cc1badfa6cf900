import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  eventsOf,
  expectGapFree,
  graph,
  publish,
  recordingServer,
  runOf,
  startRun,
  stepsOf,
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

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let other: OnboardedTenant;
let server: Awaited<ReturnType<typeof recordingServer>>;

beforeAll(async () => {
  server = await recordingServer();
  backends = await createTestBackends({ HTTP_STEP_ALLOW_HOSTS: '127.0.0.1', ENGINE_BACKOFF_MS: '50' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  await server?.close();
});

const post = (path: string, body?: unknown, tenant = acme) =>
  call(api.url, 'POST', `/api/v1${path}`, { credentials: tenant.ownerKey, body });
const http = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'http.request',
  config: { method: 'GET', url: `${server.url}${path}` },
  ...extra,
});

describe('engine: waiting, failing and control', () => {
  it('waits out a delay step as a delayed job', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 700 } },
        ],
        ['start->wait'],
      ),
    );
    const started = Date.now();
    const run = await waitForStatus(api.url, acme, (await startRun(api.url, acme, id)).body.id as string, [
      'completed',
      'failed',
    ]);
    expect(run.status).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(run.context.steps.wait.output).toEqual({ waited_ms: 700 });
  });

  it('pauses at an approval and continues with the resume data', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval' },
          { id: 'after', type: 'transform', config: { expression: '"approved by " & steps.ok.output.by' } },
        ],
        ['start->ok', 'ok->after'],
      ),
    );
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    const paused = await waitForStatus(api.url, acme, runId, ['paused']);
    expect(paused.context.steps.ok.status).toBe('waiting');
    expect((await post(`/runs/${runId}/resume`, { step_id: 'start', data: {} })).status).toBe(409);
    const resumed = await post(`/runs/${runId}/resume`, { step_id: 'ok', data: { by: 'ana' } });
    expect(resumed.status).toBe(200);
    const done = await waitForStatus(api.url, acme, runId, ['completed', 'failed']);
    expect(done.context.steps.after.output).toBe('approved by ana');
    expect((await post(`/runs/${runId}/resume`, { step_id: 'ok', data: {} })).status).toBe(409);
    expectGapFree(await eventsOf(api.url, acme, runId));
  });

  it('decides a timed-out approval by its on_timeout', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval', config: { timeout_ms: 1000, on_timeout: 'approve' } },
        ],
        ['start->ok'],
      ),
    );
    const run = await waitForStatus(api.url, acme, (await startRun(api.url, acme, id)).body.id as string, [
      'completed',
      'failed',
    ]);
    expect(run.context.steps.ok.output).toEqual({ approved: true, timed_out: true });
  });

  it('cancels mid-run: the running step is aborted and nothing after it starts', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          http('slow', '/slow/3000'),
          http('never', '/ok-after-cancel'),
        ],
        ['start->slow', 'slow->never'],
      ),
    );
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    await waitFor(
      async () =>
        (await stepsOf(api.url, acme, runId)).find((s) => s.step_id === 'slow' && s.status === 'running'),
      'slow to run',
    );
    const cancelled = await post(`/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const steps = await stepsOf(api.url, acme, runId);
    expect(steps.map((s) => [s.step_id, s.status])).toEqual(expect.arrayContaining([['slow', 'cancelled']]));
    expect(steps.find((s) => s.step_id === 'never')).toBeUndefined();
    expect(server.requests.some((r) => r.path === '/ok-after-cancel')).toBe(false);
    expect((await runOf(api.url, acme, runId)).status).toBe('cancelled');
    expect((await post(`/runs/${runId}/cancel`)).status).toBe(409);
  });

  it('fails a run when a step exhausts its attempts, and retry re-runs only what failed', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          http('first', '/first-step'),
          http('flaky', '/toggle', { retry: { max_attempts: 1, backoff_ms: 0 } }),
        ],
        ['start->first', 'first->flaky'],
      ),
    );
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    const failed = await waitForStatus(api.url, acme, runId, ['failed', 'completed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^step 'flaky' failed: HTTP 500/);
    expect((await post(`/runs/${runId}/resume`, { step_id: 'flaky' })).status).toBe(409);

    server.healthy.value = true;
    const firstHits = server.requests.filter((r) => r.path === '/first-step').length;
    expect((await post(`/runs/${runId}/retry`)).status).toBe(200);
    const done = await waitForStatus(api.url, acme, runId, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(server.requests.filter((r) => r.path === '/first-step').length).toBe(firstHits);
    expect((await stepsOf(api.url, acme, runId)).find((s) => s.step_id === 'flaky')?.attempt).toBe(2);
    expect((await post(`/runs/${runId}/retry`)).status).toBe(409);
  });

  it('retries a failing step with exponential backoff until it succeeds', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          http('call', '/fail-until/2', { retry: { max_attempts: 3, backoff_ms: 200 } }),
        ],
        ['start->call'],
      ),
    );
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    const run = await waitForStatus(api.url, acme, runId, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    expect(run.context.steps.call.output).toMatchObject({ status: 200, body: { attempt: 3 } });
    const events = await eventsOf(api.url, acme, runId);
    expect(events.filter((e) => e.event_type === 'step.retrying')).toHaveLength(2);
    const hits = server.requests.filter(
      (r) => r.path === '/fail-until/2' && r.idempotencyKey === `${runId}:call`,
    );
    expect(hits).toHaveLength(3);
    expect(hits[1].at - hits[0].at).toBeGreaterThanOrEqual(200);
    expect(hits[2].at - hits[1].at).toBeGreaterThanOrEqual(400);
  });

  it('fails a step that runs past its timeout', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          http('slow', '/slow/2000', { timeout_ms: 300, retry: { max_attempts: 1, backoff_ms: 0 } }),
        ],
        ['start->slow'],
      ),
    );
    const run = await waitForStatus(api.url, acme, (await startRun(api.url, acme, id)).body.id as string, [
      'completed',
      'failed',
    ]);
    expect(run.status).toBe('failed');
    expect(run.error).toBe("step 'slow' failed: step timed out after 300 ms");
  });

  it('runs a sub-workflow and completes with its result', async () => {
    const child = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'triple', type: 'transform', config: { expression: 'input.n * 3' } },
        ],
        ['start->triple'],
      ),
    );
    const parent = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'sub', type: 'workflow.call', config: { workflow_id: child, input: { n: '{{ input.n }}' } } },
          {
            id: 'use',
            type: 'transform',
            config: { expression: 'steps.sub.output.context.steps.triple.output + 1' },
          },
        ],
        ['start->sub', 'sub->use'],
      ),
    );
    const run = await waitForStatus(
      api.url,
      acme,
      (await startRun(api.url, acme, parent, { n: 5 })).body.id as string,
      ['completed', 'failed'],
    );
    expect(run.status).toBe('completed');
    expect(run.context.steps.use.output).toBe(16);
    const childRuns = await call(api.url, 'GET', `/api/v1/runs?workflow_id=${child}`, {
      credentials: acme.ownerKey,
    });
    expect(childRuns.body.items?.[0]).toMatchObject({
      trigger_type: 'workflow',
      parent_run_id: run.id,
      status: 'completed',
    });
  });

  it('checks input against input_schema (422) and runs only published workflows (409)', async () => {
    const id = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []), {
      type: 'object',
      required: ['order_id'],
      properties: { order_id: { type: 'string' } },
    });
    const bad = await startRun(api.url, acme, id, { order_id: 42 });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({
      error_code: 'VALIDATION_ERROR',
      details: { errors: ['input/order_id must be string'] },
    });
    expect((await startRun(api.url, acme, id, {})).body.details).toEqual({
      errors: ["input must have required property 'order_id'"],
    });
    const draft = await call(api.url, 'POST', '/api/v1/workflows', {
      credentials: acme.ownerKey,
      body: { name: 'draft' },
    });
    expect((await startRun(api.url, acme, draft.body.id as string)).status).toBe(409);
  });

  it('creates one run from 100 concurrent starts with one idempotency key', async () => {
    const id = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        startRun(api.url, acme, id, { x: 1 }, { 'x-idempotency-key': 'once' }),
      ),
    );
    expect(responses.map((r) => r.status).sort((a, b) => a - b)).toEqual([...Array(99).fill(200), 201]);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE idempotency_key = 'once'`,
    );
    await db.end();
    expect(rows[0].n).toBe(1);
    const byBody = await call(api.url, 'POST', `/api/v1/workflows/${id}/run`, {
      credentials: acme.ownerKey,
      body: { input: {}, idempotency_key: 'once' },
    });
    expect([byBody.status, byBody.body.id]).toEqual([200, responses[0].body.id]);
  });

  it("answers 404 for another tenant's runs", async () => {
    const id = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
    const runId = (await startRun(api.url, acme, id)).body.id as string;
    for (const [method, path] of [
      ['GET', `/runs/${runId}`],
      ['GET', `/runs/${runId}/steps`],
      ['GET', `/runs/${runId}/events`],
      ['POST', `/runs/${runId}/cancel`],
      ['POST', `/runs/${runId}/retry`],
      ['POST', `/workflows/${id}/run`],
    ]) {
      const res = await call(api.url, method, `/api/v1${path}`, {
        credentials: other.ownerKey,
        body: method === 'POST' ? {} : undefined,
      });
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await call(api.url, 'GET', '/api/v1/runs', { credentials: other.ownerKey })).body.total).toBe(0);
  });
});
