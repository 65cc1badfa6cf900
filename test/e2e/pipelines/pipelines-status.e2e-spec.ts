import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { query, runPipeline, sampleRecords, waitPipeline } from './pipelines-support';

// The dashboard's pipeline page: settings persisted with a version and seen by every API process at once, and
// stage numbers measured from what really ran.

let backends: TestBackends;
let first: RunningApi;
let second: RunningApi;
let worker: { stop(): Promise<void> };
let admin: Credentials;
let acme: OnboardedTenant;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends({ WORKER_QUEUES: 'engine,documents' });
  await relaxRateLimits(backends);
  first = await startTestApi(backends.env);
  second = await startTestApi(backends.env);
  admin = await loginAdmin(first.url);
  acme = await onboardTenant(first.url, admin, 'statusco');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await worker?.stop();
  await second?.close();
  await first?.close();
  await backends?.cleanup();
});

/** The rows onboarding's dry-run pipeline moved through the stages (the only pipeline before this file's). */
const DRY_RUN_ROWS = 25;

const status = (api: RunningApi, credentials: Credentials = acme.ownerKey) =>
  call(api.url, 'GET', '/api/v1/pipeline/status', { credentials });

it('answers the same twice when nothing ran, with every stage down while no worker runs', async () => {
  // Only onboarding's dry run has run.
  const a = await status(first);
  const b = await status(second);
  expect(a.status).toBe(200);
  expect(b.body).toEqual(a.body);
  expect(a.body).toMatchObject({
    mode: 'online',
    batch_size: 32,
    version: 1,
    throughput: Number((DRY_RUN_ROWS / 300).toFixed(3)),
    window_seconds: 300,
  });
  const nodes = a.body.nodes as Array<{ id: string; status: string }>;
  expect(nodes.map((n) => n.id)).toEqual(['ingest', 'extract', 'normalise', 'load', 'dq']);
  expect(nodes.filter((n) => n.id !== 'ingest').every((n) => n.status === 'down')).toBe(true);
});

it('refuses out-of-range settings and non-admins, and a change on one process is what the other answers', async () => {
  for (const body of [{ batch_size: 0 }, { batch_size: 257 }, { mode: 'fast' }]) {
    const res = await call(first.url, 'PATCH', '/api/v1/config', { credentials: admin, body });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
  }
  const owner = await call(first.url, 'PATCH', '/api/v1/config', {
    credentials: acme.ownerKey,
    body: { batch_size: 2 },
  });
  expect(owner.status).toBe(403);

  const patched = await call(first.url, 'PATCH', '/api/v1/config', {
    credentials: admin,
    body: { batch_size: 1, mode: 'dual' },
  });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ batch_size: 1, mode: 'dual', version: 2 });
  expect((await status(second)).body).toMatchObject({ batch_size: 1, mode: 'dual', version: 2 });
  const { rows } = await db.query<{ details: unknown }>(
    `SELECT details FROM audit_events WHERE event_type = 'pipeline.config.updated' ORDER BY "timestamp" DESC LIMIT 1`,
  );
  expect(rows[0].details).toMatchObject({
    changes: { batch_size: 1, mode: 'dual' },
    before: { batch_size: 32, version: 1 },
  });
});

it('measures a run: rows through each stage, loads in batches of the configured size', async () => {
  worker = await startInProcessWorker(backends.env);
  const started = await runPipeline(first.url, acme.ownerKey, acme.tenantId, 'azure/cost/billing_cost');
  expect(started.status).toBe(201);
  const id = started.body.pipeline_logging_id as string;
  expect(await waitPipeline(first.url, acme.ownerKey, id)).toMatchObject({ status: 'COMPLETE' });
  const rows = sampleRecords('azure').length;

  // batch_size 1 = 1,000 rows per INSERT.
  const [[batches, batchRows]] = await query(
    first.url,
    acme.ownerKey,
    `SELECT (details->'output'->>'batches')::int, (details->'output'->>'batch_rows')::int
       FROM tenant_step_logs WHERE pipeline_logging_id = $1 AND step_id = 'load'`,
    [id],
  );
  expect(batchRows).toBe(1000);
  expect(batches).toBeGreaterThanOrEqual(Math.ceil(rows / 1000));

  const now = await status(second);
  const nodes = Object.fromEntries(
    (now.body.nodes as Array<{ id: string; status: string; metrics: Record<string, number> }>).map((n) => [
      n.id,
      n,
    ]),
  );
  expect(now.body.throughput).toBeCloseTo((rows + DRY_RUN_ROWS) / 300, 2);
  // Each stage: this run's attempt and the dry run's.
  for (const id of ['normalise', 'load'])
    expect(nodes[id]).toMatchObject({
      status: 'healthy',
      metrics: { rows: rows + DRY_RUN_ROWS, attempts: 2, failures: 0, workers: 1 },
    });
  expect(nodes.dq.metrics).toMatchObject({ rows: 10, attempts: 2 });
  expect(nodes.extract.metrics.rows).toBe(rows + DRY_RUN_ROWS);
  expect((await status(first)).body).toEqual(now.body);
}, 90_000);
