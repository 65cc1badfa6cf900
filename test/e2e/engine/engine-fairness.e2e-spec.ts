import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  httpFanOut,
  httpOne,
  okServer,
  publish,
  startFanOut,
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
} from '../../support/harness';

const FAN_OUT = 120;

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let flooder: OnboardedTenant;
let quiet: OnboardedTenant;
let slow: Awaited<ReturnType<typeof okServer>>;

beforeAll(async () => {
  // Every HTTP step takes 40 ms here, so a 200-step fan-out is a backlog of seconds for 4 worker slots.
  slow = await okServer(40);
  backends = await createTestBackends({ HTTP_STEP_ALLOW_HOSTS: '127.0.0.1', WORKER_CONCURRENCY: '4' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  flooder = await onboardTenant(api.url, admin, 'flooder');
  quiet = await onboardTenant(api.url, admin, 'quiet');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  await slow?.close();
});

describe('engine: fair dispatch across tenants', () => {
  it("serves another tenant's step ahead of one tenant's queued fan-out, not after it", async () => {
    const wide = await publish(api.url, flooder, httpFanOut(slow.url, FAN_OUT));
    const small = await publish(api.url, quiet, httpOne(slow.url));
    const { runId: flood, open } = await startFanOut(api.url, flooder, wide, FAN_OUT);

    const run = (await startRun(api.url, quiet, small)).body.id as string;
    expect((await waitForStatus(api.url, quiet, run, ['completed', 'failed'], 30_000)).status).toBe(
      'completed',
    );
    // First come, first served, the quiet tenant's one step would have waited behind all of it: it finished while
    // most of the fan-out was still to run.
    expect(await open()).toBeGreaterThan(FAN_OUT / 2);
    expect((await waitForStatus(api.url, flooder, flood, ['completed', 'failed'], 120_000)).status).toBe(
      'completed',
    );
  });
});
