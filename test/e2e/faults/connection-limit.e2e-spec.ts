import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { testDatabaseServerUrl } from '../../support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';

// Superusers are exempt from connection limits, so the API under test logs in as a role of its own with
// CONNECTION LIMIT 3 (its pool of 2, plus one).
const LIMIT = 3;
let backends: TestBackends;
let setupApi: RunningApi;
let api: RunningApi;
let acme: OnboardedTenant;
let admin: Client;
let role: string;
const held: Client[] = [];

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  setupApi = await startTestApi(backends.env);
  acme = await onboardTenant(setupApi.url, await loginAdmin(setupApi.url), 'acme');
  admin = new Client({ connectionString: backends.databaseUrl });
  await admin.connect();
  role = `${backends.databaseName}_limited`;
  await admin.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'limited' CONNECTION LIMIT ${LIMIT}`);
  await admin.query(`GRANT USAGE ON SCHEMA public TO "${role}"`);
  await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO "${role}"`);
  await admin.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "${role}"`);
  api = await startTestApi({
    ...backends.env,
    DATABASE_URL: limitedUrl(),
    DATABASE_POOL_SIZE: '2',
    DATABASE_ACQUIRE_TIMEOUT_MS: '1000',
  });
});

afterAll(async () => {
  for (const client of held) await client.end().catch(() => undefined);
  await api?.close();
  await setupApi?.close();
  await admin?.end();
  await backends?.cleanup();
  // The database (and with it every grant) is gone; the role is cluster-wide.
  const server = new Client({ connectionString: testDatabaseServerUrl() });
  await server.connect();
  await server.query(`DROP ROLE IF EXISTS "${role}"`);
  await server.end();
});

function limitedUrl(): string {
  const url = new URL(backends.databaseUrl);
  url.username = role;
  url.password = 'limited';
  return url.href;
}

async function list(): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${api.url}/api/v1/workflows`, {
    headers: acme.ownerKey.headers,
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

describe('the database connection limit', () => {
  it('queues a request while every pooled connection is busy, then answers 503 after DATABASE_ACQUIRE_TIMEOUT_MS', async () => {
    expect((await list()).status).toBe(200);
    // Both of the API's connections block behind a lock another session holds.
    const locker = new Client({ connectionString: backends.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE workflows IN ACCESS EXCLUSIVE MODE');
    const blocked = [list(), list()];
    await waitFor(async () => {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
        [role],
      );
      return rows[0].n === 2;
    }, 'both pooled connections to wait on the lock');

    const third = await list();
    expect([third.status, third.body.error_code]).toEqual([503, 'DB_UNAVAILABLE']);
    expect(third.ms).toBeGreaterThanOrEqual(900);
    expect(third.ms).toBeLessThan(5000);
    expect(JSON.stringify(third.body)).not.toMatch(/timeout exceeded|SELECT/);

    await locker.query('COMMIT');
    await locker.end();
    expect((await Promise.all(blocked)).map((r) => r.status)).toEqual([200, 200]);
    expect((await list()).status).toBe(200);
  });

  it("answers 503 at once while the role's connection limit is reached elsewhere, and recovers when it frees", async () => {
    // Empty the API's pool, then take every connection the role may have.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await waitFor(async () => {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [role],
      );
      return rows[0].n === 0;
    }, "the API's connections to close");
    for (let i = 0; i < LIMIT; i += 1) {
      const client = new Client({ connectionString: limitedUrl() });
      await client.connect();
      held.push(client);
    }

    const refused = await list();
    expect([refused.status, refused.body.error_code]).toEqual([503, 'DB_UNAVAILABLE']);
    expect(refused.ms).toBeLessThan(2000);
    expect(JSON.stringify(refused.body)).not.toMatch(/too many connections/);
    const health = await fetch(`${api.url}/health?deep=1`);
    expect(health.status).toBe(503);

    await Promise.all(held.splice(0).map((client) => client.end()));
    await waitFor(async () => (await list()).status === 200, 'the API to answer again', 10_000);
  });
});
