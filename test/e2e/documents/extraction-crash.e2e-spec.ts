import { expect, it } from '@jest/globals';
import { call } from '../../support/auth';
import { crashSuite } from '../../support/crash-suite';
import { spawnWorker, waitFor } from '../../support/harness';
import { type Body, upload, waitJob } from './documents-support';

// A worker killed with SIGKILL in the middle of a COPY: the job is delivered again, runs once more from the start,
// and the table holds exactly the file's rows (the first attempt's transaction died with its connection).

const suite = crashSuite({
  name: 'documents',
  tenantId: 'acme',
  queues: 'documents',
  env: { UPLOAD_LIMIT: '100mb' },
});

const ROWS = 400_000;

it('re-runs a job whose worker was killed mid-COPY, once, loading every row exactly once', async () => {
  const { api, backends, db, tenant: acme, workers } = suite;
  const lines = ['id,name,amount,day'];
  for (let i = 1; i <= ROWS; i += 1)
    lines.push(
      `${i},customer ${i % 977},${(i % 10_000) / 100},2025-03-${String((i % 28) + 1).padStart(2, '0')}`,
    );
  const doc = await upload(api.url, acme.ownerKey, 'large.csv', `${lines.join('\n')}\n`);
  expect(doc.status).toBe(201);

  workers.push(await spawnWorker(backends.env));
  const created = await call(api.url, 'POST', '/api/v1/jobs', {
    credentials: acme.ownerKey,
    body: { document_id: doc.body.id },
  });
  expect(created.status).toBe(201);
  const jobId = created.body.id as string;

  // Mid-extraction: Postgres reports the COPY under way with rows in, but not all of them.
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: string }>(
        'SELECT tuples_processed AS n FROM pg_stat_progress_copy WHERE datname = current_database()',
      );
      const n = Number(rows[0]?.n ?? 0);
      return n > 10_000 && n < ROWS;
    },
    'the COPY to be under way',
    60_000,
    20,
  );
  workers[0].child.kill('SIGKILL');
  await workers[0].exited;
  expect(
    (await call(api.url, 'GET', `/api/v1/jobs/${jobId}`, { credentials: acme.ownerKey })).body.status,
  ).toBe('running');

  workers.push(await spawnWorker(backends.env));
  const job = await waitJob(api.url, acme.ownerKey, jobId, 120_000);
  expect(job).toMatchObject({ status: 'succeeded', rows: ROWS, attempts: 2 });

  const tables = (await call(api.url, 'GET', `/api/v1/jobs/${jobId}/tables`, { credentials: acme.ownerKey }))
    .body as unknown as Body[];
  expect(tables).toHaveLength(1);
  const name = tables[0].name as string;
  const counted = await db.query<{ n: string; distinct_ids: string }>(
    `SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids FROM tenant_acme."${name}"`,
  );
  expect(counted.rows[0]).toEqual({ n: String(ROWS), distinct_ids: String(ROWS) });
  // No second table from the first attempt, in the catalog or in the schema.
  const inSchema = await db.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'tenant_acme' AND tablename LIKE 'large_%'`,
  );
  expect(inSchema.rows).toEqual([{ tablename: name }]);
  const events = (await call(api.url, 'GET', `/api/v1/jobs/${jobId}/events`, { credentials: acme.ownerKey }))
    .body as unknown as Body[];
  expect(events.map((e) => e.event_type)).toEqual([
    'job.created',
    'job.started',
    'job.started',
    'table.created',
    'job.succeeded',
  ]);
}, 240_000);
