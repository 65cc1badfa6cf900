import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { Redis } from 'ioredis';
import { JobQueue } from '../../src/core/queue/job-queue.service';
import { JobRegistryError } from '../../src/core/queue/job-registry';
import { startWorker } from '../../src/worker';
import { FIXTURE_JOBS, fixtureKey } from '../fixtures/fixture-jobs';
import { testRedisUrl } from '../support/backends';
import {
  createTestBackends,
  type RunningApi,
  spawnWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../support/harness';

const FIXTURE_WORKER = path.join(__dirname, '../fixtures/fixture-worker.ts');

let backends: TestBackends;
let api: RunningApi;
let redis: Redis;

beforeAll(async () => {
  backends = await createTestBackends({ WORKER_SHUTDOWN_GRACE_MS: '20000' });
  api = await startTestApi(backends.env, { extraJobs: FIXTURE_JOBS });
  redis = new Redis(testRedisUrl());
});

afterAll(async () => {
  redis?.disconnect();
  await api?.close();
  await backends?.cleanup();
});

const marker = (token: string, stage: 'started' | 'done') =>
  redis.get(fixtureKey(backends.queuePrefix, token, stage));

describe('typed jobs and the worker process', () => {
  it('processes a job the API enqueued in a worker running as a separate process', async () => {
    const worker = await spawnWorker(backends.env, FIXTURE_WORKER);
    try {
      const jobId = await api.app.get(JobQueue).enqueue('fixture.sleep', { token: 'quick', ms: 10 });
      const donePid = await waitFor(() => marker('quick', 'done'), 'the job to finish');
      expect(Number(donePid)).toBe(worker.child.pid);
      expect(Number(donePid)).not.toBe(process.pid);
      // The handler marks 'done' before it returns: the job is completed (with its return value) a moment later.
      const queue = api.app.get(JobQueue).queue('maintenance');
      await waitFor(async () => (await queue.getJobState(jobId)) === 'completed', 'the job to be completed');
      const job = await queue.getJob(jobId);
      expect(job?.returnvalue).toEqual({ token: 'quick', pid: worker.child.pid });
    } finally {
      await worker.stop();
    }
  });

  it('lets the active job finish when the worker gets SIGTERM, then exits cleanly', async () => {
    const worker = await spawnWorker(backends.env, FIXTURE_WORKER);
    const jobId = await api.app.get(JobQueue).enqueue('fixture.sleep', { token: 'slow', ms: 2500 });
    await waitFor(() => marker('slow', 'started'), 'the job to start');
    expect(await marker('slow', 'done')).toBeNull();

    const exitCode = await worker.stop('SIGTERM');

    expect(exitCode).toBe(0);
    expect(Number(await marker('slow', 'done'))).toBe(worker.child.pid);
    const job = await api.app.get(JobQueue).queue('maintenance').getJob(jobId);
    expect(await job?.getState()).toBe('completed');
  });

  it('refuses to boot a worker whose job registry has a job without a handler', async () => {
    const boot = startWorker({ env: backends.env, extraJobs: { 'fixture.orphan': 'maintenance' } });
    await expect(boot).rejects.toThrow(JobRegistryError);
    await expect(boot).rejects.toThrow("job 'fixture.orphan' has no handler");
  });
});
