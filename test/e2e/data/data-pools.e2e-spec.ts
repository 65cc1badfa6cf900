import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { datasetRolePrefix } from '../../../src/modules/data/dataset.repository';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let db: Client;
const tenants: Record<string, OnboardedTenant> = {};

beforeAll(async () => {
  backends = await createTestBackends({
    DATA_MAX_CONNECTIONS: '2',
    DATA_POOL_SIZE: '2',
    DATA_MAX_POOLS: '2',
    DATA_ACQUIRE_TIMEOUT_MS: '800',
    DATA_QUERY_TIMEOUT_MS: '5000',
    DATA_POOL_IDLE_MS: '60000',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  for (const id of ['alpha', 'beta', 'gamma']) tenants[id] = await onboardTenant(api.url, admin, id);
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

const roleOf = (tenantId: string) => `${datasetRolePrefix(backends.databaseName)}${tenantId}_ro`;

function query(tenantId: string, sql: string) {
  return call(api.url, 'POST', '/api/v1/data/query', {
    credentials: tenants[tenantId].ownerKey,
    body: { sql },
  });
}

/** The same request, abortable: fetch itself, so the test can go away mid-query. */
function abortableQuery(tenantId: string, sql: string, signal: AbortSignal) {
  return fetch(`${api.url}/api/v1/data/query`, {
    method: 'POST',
    headers: { ...tenants[tenantId].ownerKey.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
    signal,
  });
}

/** Sandbox sessions of this database, by role. */
async function sessions(): Promise<Record<string, number>> {
  const { rows } = await db.query<{ usename: string; n: number }>(
    `SELECT usename, count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'conflux-sandbox' GROUP BY usename`,
  );
  return Object.fromEntries(rows.map((r) => [r.usename, r.n]));
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Holds an ACCESS EXCLUSIVE lock on a tenant table, so its readers wait (without using any CPU). */
async function lockTable(tenantId: string): Promise<() => Promise<void>> {
  const locker = new Client({ connectionString: backends.databaseUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE tenant_${tenantId}.tenant_step_logs IN ACCESS EXCLUSIVE MODE`);
  return async () => {
    await locker.query('ROLLBACK');
    await locker.end();
  };
}

describe('sandbox connection pools', () => {
  it('keep at most DATA_MAX_POOLS tenant pools and DATA_MAX_CONNECTIONS connections', async () => {
    for (const id of ['alpha', 'beta', 'gamma', 'alpha', 'beta']) {
      const res = await query(id, 'SELECT current_user');
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual([[roleOf(id)]]);
      expect(total(await sessions())).toBeLessThanOrEqual(2);
    }
    // gamma's pool was the least recently used once beta came back: closed, its connection with it.
    await waitFor(async () => (await sessions())[roleOf('gamma')] === undefined, 'gamma pool to close');
  });

  it('answer 503 DB_UNAVAILABLE with Retry-After when every connection stays busy, then recover', async () => {
    const unlock = await lockTable('alpha');
    const blocked = [1, 2].map(() => query('alpha', 'SELECT count(*) FROM tenant_step_logs'));
    try {
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
              [roleOf('alpha')],
            )
          ).rows[0].n === 2,
        'both alpha queries to wait on the lock',
      );
      const started = Date.now();
      const busy = await query('beta', 'SELECT 1');
      expect(busy.status).toBe(503);
      expect(busy.body).toMatchObject({ error_code: 'DB_UNAVAILABLE', retry_after: 1 });
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    } finally {
      await unlock();
    }
    expect((await Promise.all(blocked)).map((r) => r.status)).toEqual([200, 200]);
    expect((await query('beta', 'SELECT 1')).status).toBe(200);
  });

  it('stop a query whose client went away, without waiting for the timeout', async () => {
    const unlock = await lockTable('alpha');
    try {
      const controller = new AbortController();
      const pending = abortableQuery(
        'alpha',
        'SELECT count(*) FROM tenant_step_logs',
        controller.signal,
      ).catch((error: Error) => error);
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
              [roleOf('alpha')],
            )
          ).rows[0].n === 1,
        'the alpha query to wait on the lock',
      );
      const aborted = Date.now();
      controller.abort();
      expect(await pending).toMatchObject({ name: 'AbortError' });
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND state = 'active'`,
              [roleOf('alpha')],
            )
          ).rows[0].n === 0,
        'the abandoned query to stop',
        3000,
      );
      expect(Date.now() - aborted).toBeLessThan(3000);
    } finally {
      await unlock();
    }
    expect((await query('alpha', 'SELECT 1')).status).toBe(200);
  });
});
