/**
 * `npm run bench:fairness`: how much one tenant's backlog slows another tenant's run. Tenant Y runs a one-step
 * HTTP workflow (a 40 ms endpoint) BENCH_SAMPLES times (10) one after the other on an idle engine, then again while
 * tenant X's BENCH_FAN_OUT-step fan-out (499 steps and its trigger, the same 40 ms endpoint) is queued on the same worker
 * (WORKER_CONCURRENCY 4, so the fan-out is seconds of backlog). A run's latency is its completed_at minus its
 * created_at, as the API records them. Target: Y's median under the flood within 2x of its idle median. For
 * scale, first come first served would have made each of Y's runs wait behind X's open steps (open x 40 ms / 4).
 * Numbers, not a test.
 */
import 'reflect-metadata';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  startInProcessWorker,
  startTestApi,
} from '../test/support/harness';
import {
  httpFanOut,
  httpOne,
  okServer,
  publish,
  startFanOut,
  startRun,
  waitForStatus,
} from '../test/support/workflows';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10);
const FAN_OUT = Number(process.env.BENCH_FAN_OUT ?? 499); // with its trigger, 500 nodes: the most a workflow may have

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const max = (values: number[]) => Math.max(...values);

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const server = await okServer(40);
  const endpoint = server.url;
  const backends = await createTestBackends({
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
    WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'warn',
  });
  await relaxRateLimits(backends);
  const api = await startTestApi(backends.env);
  const worker = await startInProcessWorker(backends.env);
  try {
    const admin = await loginAdmin(api.url);
    const flooder = await onboardTenant(api.url, admin, 'flooder', 'SCALE');
    const quiet = await onboardTenant(api.url, admin, 'quiet', 'SCALE');
    const wide = await publish(api.url, flooder, httpFanOut(endpoint, FAN_OUT));
    const small = await publish(api.url, quiet, httpOne(endpoint));

    /** Y's runs one after the other: each one's created_at -> completed_at, in ms. */
    const sample = async (tenant: OnboardedTenant): Promise<number[]> => {
      const latencies: number[] = [];
      for (let i = 0; i < SAMPLES; i += 1) {
        const id = (await startRun(api.url, tenant, small)).body.id as string;
        await waitForStatus(api.url, tenant, id, ['completed'], 60_000);
        const run = (await call(api.url, 'GET', `/api/v1/runs/${id}`, { credentials: tenant.ownerKey })).body;
        latencies.push(Date.parse(run.completed_at as string) - Date.parse(run.created_at as string));
      }
      return latencies;
    };

    await sample(quiet); // warm-up: first compilations, pools, caches
    const idle = await sample(quiet);
    const { runId: flood, open } = await startFanOut(api.url, flooder, wide, FAN_OUT);
    const queued = await open();
    const loaded = await sample(quiet);
    const left = await open();
    await waitForStatus(api.url, flooder, flood, ['completed', 'failed'], 10 * 60_000);

    const ratio = median(loaded) / median(idle);
    console.log(
      `tenant Y, one 40 ms HTTP step, ${SAMPLES} runs each; tenant X's fan-out: ${FAN_OUT} steps, ` +
        'WORKER_CONCURRENCY 4',
    );
    if (process.env.BENCH_VERBOSE) console.log({ idle, loaded });
    console.log(`idle:                 median ${median(idle)} ms, max ${max(idle)} ms`);
    console.log(
      `under X's backlog:    median ${median(loaded)} ms, max ${max(loaded)} ms ` +
        `(X's open steps: ${queued} when Y began, ${left} when Y was done)`,
    );
    console.log(
      `first come first served would have queued Y's first run behind ~${Math.round((queued * 40) / 4)} ms of X`,
    );
    console.log(`ratio: ${ratio.toFixed(2)}x of idle (${ratio <= 2 ? 'within' : 'OVER'} the 2x target)`);
  } finally {
    await worker.stop();
    await api.close();
    await backends.cleanup();
    await server.close();
    await stopBackends();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
