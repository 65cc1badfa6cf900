import { expect, it } from '@jest/globals';
import { stringify } from 'csv-stringify/sync';
import { AWS_CUR } from '../../../src/modules/pipelines/providers/aws';
import { call, loginAdmin } from '../../support/auth';
import { crashSuite } from '../../support/crash-suite';
import { spawnWorker, waitFor } from '../../support/harness';
import { upload } from '../documents/documents-support';
import { query, runPipeline, waitPipeline } from './pipelines-support';

// A worker killed with SIGKILL while `pipeline.load` is writing: the step's job is delivered again, the load
// runs once more, and the FOCUS table holds every row of the export exactly once.

const suite = crashSuite({ name: 'pipelines', tenantId: 'crashfin', queues: 'engine' });

const ROWS = 20_000;

it('completes a run whose worker was killed during the load, with no duplicate rows', async () => {
  const { api, backends, db, tenant: acme, workers } = suite;
  // 1,000 rows per INSERT: the load is a run of statements in one transaction, and the kill lands inside it.
  const config = await call(api.url, 'PATCH', '/api/v1/config', {
    credentials: await loginAdmin(api.url),
    body: { batch_size: 1 },
  });
  expect(config.status).toBe(200);
  const csv = stringify([...AWS_CUR.sample(ROWS, 7)]);
  const doc = await upload(api.url, acme.ownerKey, 'cur-large.csv', csv);
  expect(doc.status).toBe(201);
  workers.push(await spawnWorker(backends.env));
  const started = await runPipeline(api.url, acme.ownerKey, acme.tenantId, 'aws/cost/billing_cost', {
    document_id: doc.body.id,
  });
  expect(started.status).toBe(201);
  const id = started.body.pipeline_logging_id as string;

  // The load's INSERT is under way: kill the worker in the middle of it.
  await waitFor(
    async () => {
      const { rows } = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
            AND query LIKE '%INSERT INTO "tenant_crashfin"."focus_billing"%'`,
      );
      return rows.length > 0;
    },
    'the load to be under way',
    60_000,
    5,
  );
  await workers[0].stop('SIGKILL');
  workers.push(await spawnWorker(backends.env));

  expect(await waitPipeline(api.url, acme.ownerKey, id, 120_000)).toMatchObject({ status: 'COMPLETE' });
  // Every row once: the killed attempt's rows died with its transaction, the retry replaced nothing twice.
  const [[rows, runs]] = await query(
    api.url,
    acme.ownerKey,
    'SELECT count(*)::int, count(DISTINCT x_pipeline_logging_id)::int FROM focus_billing',
  );
  expect(rows).toBe(ROWS);
  expect(runs).toBe(1);
  const [[loadAttempts]] = await query(
    api.url,
    acme.ownerKey,
    `SELECT count(*)::int FROM tenant_step_logs WHERE pipeline_logging_id = $1 AND step_id = 'load' AND status = 'COMPLETE'`,
    [id],
  );
  // One committed load, or two when the kill landed between the load's commit and the step's completion (the
  // second replaced the first's rows): either way, the rows once.
  expect([1, 2]).toContain(loadAttempts);
}, 240_000);
