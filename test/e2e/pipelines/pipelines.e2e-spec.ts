import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'csv-stringify/sync';
import { Client } from 'pg';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';
import { type Frame, keyOf, TestSocket } from '../../support/ws';
import { startRun } from '../../support/workflows';
import { upload } from '../documents/documents-support';
import { JobQueue } from '../../../src/core/queue/job-queue.service';
import {
  atScale,
  billedCell,
  decimalSum,
  type Provider,
  query,
  runPipeline,
  sampleRecords,
  waitPipeline,
} from './pipelines-support';

// Template pipelines end to end: each provider's sample export through extract -> FOCUS -> load -> checks on a
// real worker, the FOCUS table read back through the tenant's SQL sandbox, and the records of the run.

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let db: Client;
let acme: OnboardedTenant;
let other: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends({ WORKER_QUEUES: 'engine,maintenance' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acmefin', 'SCALE');
  other = await onboardTenant(api.url, admin, 'otherfin', 'SCALE');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

it('lists the shipped templates with their variables', async () => {
  const res = await call(api.url, 'GET', '/api/v1/pipelines/templates', { credentials: acme.ownerKey });
  expect(res.status).toBe(200);
  const templates = res.body as unknown as Array<Record<string, unknown>>;
  const keys = templates.map((t) => `${String(t.provider)}/${String(t.domain)}/${String(t.template)}`);
  for (const provider of ['aws', 'gcp', 'azure']) {
    expect(keys).toContain(`${provider}/cost/billing_cost`);
    expect(keys).toContain(`${provider}/compute/usage_metrics`);
  }
  const aws = templates.find((t) => t.provider === 'aws' && t.template === 'billing_cost');
  expect(aws?.variables).toEqual([
    expect.objectContaining({ name: 'document_id', type: 'string', default: '' }),
  ]);
  expect(aws?.steps).toEqual([
    'trigger.manual',
    'pipeline.extract',
    'pipeline.focus',
    'pipeline.load',
    'pipeline.dq',
  ]);
});

describe.each(['aws', 'gcp', 'azure'] as Provider[])('%s billing_cost', (provider) => {
  it('loads the sample as FOCUS rows whose billed total is the export’s, with checks and step logs recorded', async () => {
    const started = await runPipeline(
      api.url,
      acme.ownerKey,
      acme.tenantId,
      `${provider}/cost/billing_cost`,
      {
        trigger_by: 'finops-scheduler',
      },
    );
    expect(started.status).toBe(201);
    expect(started.body).toEqual({
      pipeline_logging_id: expect.any(String),
      pipeline_id: `acmefin-${provider}-cost-billing_cost`,
      tenant_id: 'acmefin',
      status: 'PENDING',
      message: expect.any(String),
    });
    const id = started.body.pipeline_logging_id as string;
    const done = await waitPipeline(api.url, acme.ownerKey, id);
    expect(done).toMatchObject({
      status: 'COMPLETE',
      trigger_type: 'manual',
      trigger_by: 'finops-scheduler',
      error: null,
    });
    expect(done.duration_ms).toEqual(expect.any(Number));
    expect(Date.parse(done.end_time as string)).toBeGreaterThanOrEqual(Date.parse(done.start_time as string));

    const records = sampleRecords(provider);
    expect(records.length).toBeGreaterThanOrEqual(1000);
    const [[rows, total, providers]] = await query(
      api.url,
      acme.ownerKey,
      `SELECT count(*)::int, SUM(BilledCost)::text, array_agg(DISTINCT ProviderName) FROM focus_billing
        WHERE x_pipeline_logging_id = $1`,
      [id],
    );
    expect(rows).toBe(records.length);
    expect(atScale(total as string)).toBe(decimalSum(records.map((r) => billedCell(provider, r))));
    expect((providers as string[]).length).toBe(1);

    // Every check passed and was recorded; every pipeline step logged its attempt.
    const [[checks, passed]] = await query(
      api.url,
      acme.ownerKey,
      `SELECT count(*)::int, bool_and(passed) FROM tenant_dq_results WHERE pipeline_logging_id = $1`,
      [id],
    );
    expect(checks).toBe(5);
    expect(passed).toBe(true);
    const steps = await query(
      api.url,
      acme.ownerKey,
      `SELECT step_id, status FROM tenant_step_logs WHERE pipeline_logging_id = $1 ORDER BY started_at`,
      [id],
    );
    expect(steps).toEqual([
      ['extract', 'COMPLETE'],
      ['focus', 'COMPLETE'],
      ['load', 'COMPLETE'],
      ['dq', 'COMPLETE'],
    ]);
    // The run's staging tables are gone once it ended.
    const { rows: staged } = await db.query(
      `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'pipeline_stage' AND starts_with(relname, $1)`,
      [`r${id.replace(/-/g, '')}`],
    );
    expect(staged).toEqual([]);
  }, 90_000);
});

it('keeps FOCUS values within the allowed sets and a re-run replaces its billing period instead of adding to it', async () => {
  const again = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost');
  expect(again.status).toBe(201);
  await waitPipeline(api.url, acme.ownerKey, again.body.pipeline_logging_id as string);
  const [[rows, runs]] = await query(
    api.url,
    acme.ownerKey,
    `SELECT count(*)::int, count(DISTINCT x_pipeline_logging_id)::int FROM focus_billing WHERE x_provider = 'aws'`,
  );
  expect(rows).toBe(sampleRecords('aws').length);
  expect(runs).toBe(1);
  const categories = await query(
    api.url,
    acme.ownerKey,
    `SELECT DISTINCT ChargeCategory FROM focus_billing ORDER BY 1`,
  );
  expect(categories.flat()).toEqual(expect.arrayContaining(['Credit', 'Tax', 'Usage']));
  for (const [category] of categories)
    expect(['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment']).toContain(category);
}, 90_000);

it('loads a run from an uploaded document, and fails one whose export lacks a mapped column', async () => {
  const records = sampleRecords('gcp').slice(0, 300);
  const header = Object.keys(records[0]);
  const csv = (cols: string[]) => stringify([cols, ...records.map((r) => cols.map((c) => r[c]))]);
  const doc = await upload(api.url, other.ownerKey, 'gcp-billing.csv', csv(header));
  expect(doc.status).toBe(201);
  const started = await runPipeline(api.url, other.ownerKey, other.tenantId, 'gcp/cost/billing_cost', {
    document_id: doc.body.id,
  });
  expect(started.status).toBe(201);
  const id = started.body.pipeline_logging_id as string;
  expect(await waitPipeline(api.url, other.ownerKey, id)).toMatchObject({ status: 'COMPLETE' });
  const [[rows, total]] = await query(
    api.url,
    other.ownerKey,
    'SELECT count(*)::int, SUM(BilledCost)::text FROM focus_billing WHERE x_pipeline_logging_id = $1',
    [id],
  );
  expect(rows).toBe(300);
  expect(atScale(total as string)).toBe(decimalSum(records.map((r) => billedCell('gcp', r))));

  const broken = await upload(
    api.url,
    other.ownerKey,
    'not-billing.csv',
    csv(header.filter((c) => c !== 'cost')),
  );
  const failed = await runPipeline(api.url, other.ownerKey, other.tenantId, 'gcp/cost/billing_cost', {
    document_id: broken.body.id,
  });
  expect(failed.status).toBe(201);
  const end = await waitPipeline(api.url, other.ownerKey, failed.body.pipeline_logging_id as string);
  expect(end.status).toBe('FAILED');
  expect(end.error).toMatch(/lacks the column\(s\) cost/);
  const logs = await query(
    api.url,
    other.ownerKey,
    'SELECT step_id, status FROM tenant_step_logs WHERE pipeline_logging_id = $1',
    [failed.body.pipeline_logging_id],
  );
  expect(logs).toEqual([['extract', 'FAILED']]);

  // A tenant's document is nobody else's: acme naming other's document fails its run.
  const foreign = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'gcp/compute/usage_metrics', {
    document_id: doc.body.id,
  });
  const foreignEnd = await waitPipeline(api.url, acme.ownerKey, foreign.body.pipeline_logging_id as string);
  expect(foreignEnd.status).toBe('FAILED');
  expect(foreignEnd.error).toMatch(/not found/);
}, 120_000);

it('lists runs as a plain array, filtered, and audits who started them', async () => {
  const all = await call(api.url, 'GET', '/api/v1/pipelines/runs?limit=100', { credentials: acme.ownerKey });
  expect(all.status).toBe(200);
  const runs = all.body as unknown as Array<Record<string, unknown>>;
  expect(Array.isArray(runs)).toBe(true);
  expect(runs.every((r) => r.tenant_id === 'acmefin')).toBe(true);
  const aws = await call(
    api.url,
    'GET',
    '/api/v1/pipelines/runs?pipeline_id=acmefin-aws-cost-billing_cost&status=COMPLETE&limit=1',
    { credentials: acme.ownerKey },
  );
  expect(aws.body).toEqual([
    expect.objectContaining({ pipeline_id: 'acmefin-aws-cost-billing_cost', status: 'COMPLETE' }),
  ]);
  const bad = await call(api.url, 'GET', '/api/v1/pipelines/runs?status=DONE', {
    credentials: acme.ownerKey,
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error_code).toBe('VALIDATION_ERROR');

  // Another tenant's run is not found; the audit log names the user header and trigger_by.
  const id = runs[0].pipeline_logging_id as string;
  const foreign = await call(api.url, 'GET', `/api/v1/pipelines/runs/${id}`, { credentials: other.ownerKey });
  expect(foreign.status).toBe(404);
  expect(foreign.body.error_code).toBe('PIPELINE_RUN_NOT_FOUND');
  // An admin naming a tenant that does not exist: not found, no runs (not a 500 for its missing schema).
  const admin = await loginAdmin(api.url);
  const nowhere = await call(api.url, 'GET', `/api/v1/pipelines/runs/${id}?tenantId=nosuchtenant`, {
    credentials: admin,
  });
  expect([nowhere.status, nowhere.body.error_code]).toEqual([404, 'PIPELINE_RUN_NOT_FOUND']);
  const none = await call(api.url, 'GET', '/api/v1/pipelines/runs?tenantId=nosuchtenant', {
    credentials: admin,
  });
  expect([none.status, none.body]).toEqual([200, []]);
  const audited = await runPipeline(
    api.url,
    acme.ownerKey,
    acme.tenantId,
    'azure/compute/usage_metrics',
    { trigger_by: 'cron-hourly' },
    { 'x-user-id': 'ops-42' },
  );
  expect(audited.status).toBe(201);
  await waitPipeline(api.url, acme.ownerKey, audited.body.pipeline_logging_id as string);
  const { rows } = await db.query(
    `SELECT x_user_id, details FROM audit_events WHERE event_type = 'pipeline.started' AND resource_id = $1`,
    [audited.body.pipeline_logging_id],
  );
  expect(rows).toEqual([
    expect.objectContaining({
      x_user_id: 'ops-42',
      details: expect.objectContaining({ trigger_by: 'cron-hourly' }),
    }),
  ]);
}, 90_000);

it('answers bad requests in the envelope: foreign tenant, unknown template, wrong variable types', async () => {
  const mismatch = await runPipeline(api.url, acme.ownerKey, 'otherfin', 'aws/cost/billing_cost');
  expect(mismatch.status).toBe(403);
  expect(mismatch.body).toMatchObject({
    error_code: 'TENANT_MISMATCH',
    message: "authenticated as 'acmefin' but requested 'otherfin'",
    request_id: expect.any(String),
  });
  const unknown = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/nope');
  expect(unknown.status).toBe(404);
  expect(unknown.body.error_code).toBe('TEMPLATE_NOT_FOUND');
  const wrongType = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost', {
    document_id: 42,
  });
  expect(wrongType.status).toBe(422);
  expect(wrongType.body.error_code).toBe('VALIDATION_ERROR');
  const undeclared = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost', {
    region: 'eu',
  });
  expect(undeclared.status).toBe(422);
  const huge = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost', {
    document_id: 'x'.repeat(100_000),
  });
  expect(huge.status).toBe(422);
  expect(huge.body.error_code).toBe('VALIDATION_ERROR');
  const badDate = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost', {
    date: 'yesterday',
  });
  expect(badDate.status).toBe(422);
});

it("publishes each run's state changes on the tenant's `pipelines` topic, to that tenant only", async () => {
  const watch = async (tenant: OnboardedTenant) => {
    const socket = await TestSocket.open(
      api.url,
      `/ws/realtime?access_token=${encodeURIComponent(keyOf(tenant))}`,
    );
    socket.send({ subscribe: 'pipelines' });
    await socket.next(
      (f) => f.type === 'subscribed' && f.topic === 'pipelines',
      'the pipelines subscription',
    );
    return socket;
  };
  const acmeWatch = await watch(acme);
  const otherWatch = await watch(other);
  const started = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'gcp/compute/usage_metrics');
  expect(started.status).toBe(201);
  const id = started.body.pipeline_logging_id as string;
  const statusOf = (f: Frame) =>
    f.topic === 'pipelines' && 'msg' in f
      ? (f.msg as { data: { pipeline_logging_id: string; status: string } }).data
      : undefined;
  await acmeWatch.next((f) => statusOf(f)?.status === 'COMPLETE', 'COMPLETE on the pipelines topic');
  const seen = acmeWatch.frames.map(statusOf).filter((d) => d?.pipeline_logging_id === id);
  expect(seen.map((d) => d?.status)).toEqual(['RUNNING', 'COMPLETE']);
  expect(otherWatch.frames.filter((f) => f.topic === 'pipelines' && 'msg' in f)).toEqual([]);
  acmeWatch.close();
  otherWatch.close();
}, 60_000);

it('limits run requests to 50 a minute per tenant with 429 RATE_LIMITED and Retry-After', async () => {
  const busy = await onboardTenant(api.url, await loginAdmin(api.url), 'busyfin', 'SCALE');
  const answers = [];
  for (let i = 0; i < 51; i += 1)
    answers.push(await runPipeline(api.url, busy.ownerKey, busy.tenantId, 'aws/cost/nope'));
  expect(answers.slice(0, 50).every((r) => r.status === 404)).toBe(true);
  const limited = answers[50];
  expect(limited.status).toBe(429);
  expect(limited.body).toMatchObject({ error_code: 'RATE_LIMITED', retry_after: expect.any(Number) });
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  // Other endpoints of the tenant are not held by it.
  expect((await call(api.url, 'GET', '/api/v1/pipelines/runs', { credentials: busy.ownerKey })).status).toBe(
    200,
  );
});

it('sweeps the staging tables of a pipeline workflow run started outside POST /pipelines/run', async () => {
  const piped = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'azure/cost/billing_cost');
  const done = await waitPipeline(api.url, acme.ownerKey, piped.body.pipeline_logging_id as string);
  const workflowId = (done.details as { workflow_id: string }).workflow_id;
  const input = (done.details as { variables: Record<string, unknown> }).variables;
  const direct = await startRun(api.url, acme, workflowId, input);
  expect(direct.status).toBe(201);
  const runId = direct.body.id as string;
  const staged = async () =>
    (
      await db.query(
        `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'pipeline_stage' AND starts_with(relname, $1)`,
        [`r${runId.replace(/-/g, '')}`],
      )
    ).rows.length;
  await waitFor(
    async () => {
      const run = await call(api.url, 'GET', `/api/v1/runs/${runId}`, { credentials: acme.ownerKey });
      return run.body.status === 'completed';
    },
    'the direct run to complete',
    60_000,
  );
  // Not a pipeline run: no end hook dropped its staging tables, and it wrote no pipeline records.
  expect(await staged()).toBe(2);
  await api.app.get(JobQueue).enqueue('maintenance.pipeline-stage-sweep', {});
  await waitFor(async () => (await staged()) === 0, 'the sweep to drop them', 30_000);
  const [[logs]] = await query(
    api.url,
    acme.ownerKey,
    'SELECT count(*)::int FROM tenant_step_logs WHERE pipeline_logging_id = $1',
    [runId],
  );
  expect(logs).toBe(0);
}, 90_000);
