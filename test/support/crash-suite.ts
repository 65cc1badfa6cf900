import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { Client } from 'pg';
import { loginAdmin, onboardTenant, type OnboardedTenant } from './auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  type WorkerProcess,
} from './harness';

export interface CrashSuite {
  backends: TestBackends;
  api: RunningApi;
  /** A superuser connection to the suite's database, to watch a load from outside. */
  db: Client;
  tenant: OnboardedTenant;
  /** The workers the suite spawned: each is killed (SIGKILL) at the end. */
  workers: WorkerProcess[];
}

/**
 * The set-up of a suite that kills a worker mid-write: its own storage directory, a short worker lock (a dead
 * worker's job is handed on within about 2 s), workers of one queue group, an API, one tenant and a database
 * client; all of it torn down after the suite. Filled in by `beforeAll`: read it inside the tests.
 */
export function crashSuite(options: {
  name: string;
  tenantId: string;
  queues: string;
  env?: Record<string, string>;
}): CrashSuite {
  const suite = { workers: [] as WorkerProcess[] } as CrashSuite;
  let storageDir: string | undefined;
  beforeAll(async () => {
    storageDir = await mkdtemp(path.join(os.tmpdir(), `conflux-${options.name}-crash-`));
    suite.backends = await createTestBackends({
      STORAGE_DIR: storageDir,
      WORKER_LOCK_MS: '2000',
      WORKER_QUEUES: options.queues,
      ...options.env,
    });
    await relaxRateLimits(suite.backends);
    suite.api = await startTestApi(suite.backends.env);
    suite.tenant = await onboardTenant(suite.api.url, await loginAdmin(suite.api.url), options.tenantId);
    suite.db = new Client({ connectionString: suite.backends.databaseUrl });
    await suite.db.connect();
  }, 60_000);
  afterAll(async () => {
    for (const worker of suite.workers) await worker.stop('SIGKILL');
    await suite.db?.end();
    await suite.api?.close();
    await suite.backends?.cleanup();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });
  return suite;
}
