import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../../src/core/config/database.config';
import { dataSourceOptions } from '../../../src/core/database/data-source.options';
import { runMigrationsLocked } from '../../../src/core/database/migrate';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { testDatabaseServerUrl } from '../../support/backends';
import {
  eventsOf,
  expectGapFree,
  graph,
  httpChain,
  publish,
  recordingServer,
  startRun,
  waitForStatus,
} from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  spawnWorker,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
  type WorkerProcess,
} from '../../support/harness';
import { type PgBouncer, startPgBouncer } from '../../support/pgbouncer';

// The API and the workers reach PostgreSQL only through PgBouncer in transaction mode (DATABASE_URL); the
// direct URL is there for what needs a session (migrations, the data sandbox's role logins).
let backends: TestBackends;
let bouncer: PgBouncer;
let api: RunningApi;
let env: Record<string, string | undefined>;
let worker: { stop(): Promise<void> };
let victim: WorkerProcess | undefined;
let acme: OnboardedTenant;
let server: Awaited<ReturnType<typeof recordingServer>>;

beforeAll(async () => {
  backends = await createTestBackends({ HTTP_STEP_ALLOW_HOSTS: '127.0.0.1' });
  await relaxRateLimits(backends);
  bouncer = await startPgBouncer(testDatabaseServerUrl());
  env = {
    ...backends.env,
    DATABASE_URL: bouncer.url(backends.databaseUrl),
    DATABASE_DIRECT_URL: backends.databaseUrl,
    // A killed worker's jobs come back within about this long.
    WORKER_LOCK_MS: '3000',
  };
  server = await recordingServer();
  api = await startTestApi(env);
  worker = await startInProcessWorker(env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
}, 60_000);

afterAll(async () => {
  await victim?.stop('SIGKILL');
  await worker?.stop();
  await api?.close();
  await server?.close();
  await bouncer?.stop();
  await backends?.cleanup();
});

async function finished(workflowId: string, input: unknown = {}) {
  const started = await startRun(api.url, acme, workflowId, input);
  expect(started.status).toBe(201);
  return waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed'], 30_000);
}

describe('PgBouncer in transaction mode', () => {
  it('runs a linear workflow, a fan-out/join and a condition to completion', async () => {
    const linear = await publish(
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
    const fanOut = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'a', type: 'transform', config: { expression: '1' } },
          { id: 'b', type: 'delay', config: { duration_ms: 200 } },
          {
            id: 'join',
            type: 'transform',
            config: { expression: 'steps.a.output + steps.b.output.waited_ms' },
          },
        ],
        ['start->a', 'start->b', 'a->join', 'b->join'],
      ),
    );
    const condition = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'big', type: 'condition', config: { expression: 'input.total > 100' } },
          { id: 'yes', type: 'transform', config: { expression: '"big"' } },
          { id: 'no', type: 'transform', config: { expression: '"small"' } },
        ],
        ['start->big', 'big->yes:true', 'big->no:false'],
      ),
    );
    const [one, two, three] = await Promise.all([
      finished(linear, { n: 20 }),
      finished(fanOut),
      finished(condition, { total: 500 }),
    ]);
    expect(one.status).toBe('completed');
    expect(one.context.steps.plus).toEqual({ status: 'completed', output: 41 });
    expect(two.context.steps.join).toEqual({ status: 'completed', output: 201 });
    expect(three.context.steps.yes).toEqual({ status: 'completed', output: 'big' });
    expect(three.context.steps.no?.status).toBe('skipped');
    for (const run of [one, two, three]) expectGapFree(await eventsOf(api.url, acme, run.id));
  });

  it('pauses at an approval and resumes with its data', async () => {
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
    await waitForStatus(api.url, acme, runId, ['paused'], 30_000);
    const resumed = await call(api.url, 'POST', `/api/v1/runs/${runId}/resume`, {
      credentials: acme.ownerKey,
      body: { step_id: 'ok', data: { by: 'ana' } },
    });
    expect(resumed.status).toBe(200);
    const done = await waitForStatus(api.url, acme, runId, ['completed', 'failed'], 30_000);
    expect(done.context.steps.after.output).toBe('approved by ana');
  });

  it('loses no run when a worker is killed -9 mid-flight', async () => {
    const id = await publish(api.url, acme, httpChain(`${server.url}/slow/300`, 3));
    // A second worker replica, as its own process, takes its share of the jobs and dies mid-flight.
    victim = await spawnWorker(env);
    const runIds = await Promise.all(
      Array.from({ length: 10 }, async () => (await startRun(api.url, acme, id)).body.id as string),
    );
    await waitFor(() => server.requests.length >= 5, 'the runs to be under way', 30_000);
    await victim.stop('SIGKILL');
    for (const runId of runIds) {
      const run = await waitForStatus(api.url, acme, runId, ['completed', 'failed'], 90_000);
      expect(run.status).toBe('completed');
    }
    const keys = new Set(server.requests.map((r) => r.idempotencyKey));
    for (const runId of runIds)
      for (const step of ['h1', 'h2', 'h3']) expect(keys.has(`${runId}:${step}`)).toBe(true);
  });

  it("runs data sandbox queries over the direct URL, with the role's session settings in force", async () => {
    const res = await call(api.url, 'POST', '/api/v1/data/query', {
      credentials: acme.ownerKey,
      body: { sql: "SELECT current_setting('default_transaction_read_only') AS ro" },
    });
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([['on']]);
  });

  it('migrates over the direct URL while DATABASE_URL is the pooler', async () => {
    const config = {
      DATABASE_URL: env.DATABASE_URL,
      DATABASE_DIRECT_URL: backends.databaseUrl,
      DATABASE_POOL_SIZE: 2,
    };
    const pooled = new DataSource(dataSourceOptions(config as DatabaseConfig));
    await pooled.initialize();
    try {
      expect(await runMigrationsLocked(pooled, config as DatabaseConfig)).toEqual([]);
    } finally {
      await pooled.destroy();
    }
  });

  it('carried the traffic: PgBouncer counted transactions for this database', async () => {
    const admin = new Client({
      connectionString: Object.assign(new URL(bouncer.url(backends.databaseUrl)), { pathname: '/pgbouncer' })
        .href,
    });
    await admin.connect();
    try {
      const stats = await admin.query<{ database: string; total_xact_count: string }>('SHOW STATS');
      const ours = stats.rows.find((row) => row.database === backends.databaseName);
      expect(Number(ours?.total_xact_count ?? 0)).toBeGreaterThan(100);
    } finally {
      await admin.end();
    }
  });
});
