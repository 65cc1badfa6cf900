import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, recordingServer, startRun, waitForStatus } from '../../support/engine';
import {
  captureLogs,
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
let server: Awaited<ReturnType<typeof recordingServer>>;
const logs = captureLogs();

beforeAll(async () => {
  server = await recordingServer();
  backends = await createTestBackends({
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
    ENGINE_BACKOFF_MS: '20',
    LOG_LEVEL: 'info',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env, { logDestination: logs.destination });
  worker = await startInProcessWorker(backends.env, { logDestination: logs.destination });
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  await server?.close();
});

describe('engine logs', () => {
  it('writes one line per run start and finish and per step retry and failure, with the starting request id', async () => {
    server.healthy.value = false;
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          {
            id: 'flaky',
            type: 'http.request',
            config: { method: 'GET', url: `${server.url}/toggle` },
            retry: { max_attempts: 2, backoff_ms: 10 },
          },
        ],
        ['start->flaky'],
      ),
    );
    const runId = (await startRun(api.url, acme, id, {}, { 'X-Request-ID': 'req-engine-logs-1' })).body
      .id as string;
    expect((await waitForStatus(api.url, acme, runId, ['failed', 'completed'])).status).toBe('failed');

    const ofRun = () => logs.lines.filter((line) => line.run_id === runId);
    await waitFor(() => ofRun().some((line) => line.event === 'run.failed'), 'the run.failed log line');
    const lines = ofRun().map(({ level, msg, event, step_id, attempt, request_id }) => ({
      level,
      msg,
      event,
      step_id,
      attempt,
      request_id,
    }));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'run started', event: 'run.created' }),
      expect.objectContaining({ level: 'warn', event: 'step.retrying', step_id: 'flaky', attempt: 2 }),
      expect.objectContaining({ level: 'warn', event: 'step.failed', step_id: 'flaky', attempt: 2 }),
      expect.objectContaining({ level: 'warn', msg: 'run finished', event: 'run.failed' }),
    ]);
    for (const line of lines) expect(line.request_id).toBe('req-engine-logs-1');
    const failure = ofRun().find((line) => line.event === 'step.failed');
    expect(failure).toMatchObject({ tenant_id: acme.tenantId, workflow_id: id });
    expect(String(failure?.error)).toMatch(/HTTP 500/);
  });
});
