import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import Cursor from 'pg-cursor';
import { datasetRolePrefix } from '../../../src/modules/data/dataset.repository';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

const TIMEOUT_MS = 1500;

let backends: TestBackends;
let api: RunningApi;
let db: Client;
let acme: OnboardedTenant;
let appUser: string;

beforeAll(async () => {
  backends = await createTestBackends({ DATA_QUERY_TIMEOUT_MS: String(TIMEOUT_MS) });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  await onboardTenant(api.url, admin, 'globex');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  await db.query('CREATE SEQUENCE tenant_acme.order_numbers');
  appUser = (await db.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

const roleOf = (tenantId: string) => `${datasetRolePrefix(backends.databaseName)}${tenantId}_ro`;

async function query(sql: string) {
  return call(api.url, 'POST', '/api/v1/data/query', { credentials: acme.ownerKey, body: { sql } });
}

/** Everything a successful escape would change or reveal, to compare before and after. */
async function snapshot() {
  const { rows } = await db.query(`
    SELECT (SELECT count(*) FROM tenant_acme.tenant_pipeline_runs)::int AS acme_runs,
           (SELECT count(*) FROM tenant_acme.tenant_step_logs)::int AS acme_steps,
           (SELECT count(*) FROM tenant_globex.tenant_pipeline_runs)::int AS globex_runs,
           (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname LIKE 'tenant\\_%')::int AS relations,
           (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
           (SELECT last_value FROM tenant_acme.order_numbers) AS sequence_value,
           (SELECT array_agg(rolname || ':' || rolsuper || ':' || rolcanlogin ORDER BY rolname)
              FROM pg_roles WHERE starts_with(rolname, '${datasetRolePrefix(backends.databaseName)}')) AS roles,
           (SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
             WHERE starts_with(r.rolname, '${datasetRolePrefix(backends.databaseName)}'))::int AS memberships`);
  return rows[0] as Record<string, unknown>;
}

describe('sandbox escapes through POST /data/query', () => {
  const other = () => roleOf('globex');
  const cases: Array<[string, () => string, number, string, RegExp]> = [
    [
      'two statements',
      () => 'SELECT 1; DELETE FROM tenant_step_logs',
      400,
      'VALIDATION_ERROR',
      /one statement/,
    ],
    [
      'INSERT',
      () =>
        "INSERT INTO tenant_dq_results (pipeline_logging_id, check_name, passed) VALUES (gen_random_uuid(), 'x', true)",
      400,
      'VALIDATION_ERROR',
      /this is INSERT/,
    ],
    [
      'UPDATE',
      () => "UPDATE tenant_pipeline_runs SET status = 'FAILED'",
      400,
      'VALIDATION_ERROR',
      /this is UPDATE/,
    ],
    ['DELETE', () => 'DELETE FROM tenant_step_logs', 400, 'VALIDATION_ERROR', /this is DELETE/],
    ['TRUNCATE', () => 'TRUNCATE tenant_step_logs', 400, 'VALIDATION_ERROR', /this is TRUNCATE/],
    [
      'CREATE',
      () => 'CREATE TABLE stolen AS SELECT * FROM tenant_globex.tenant_pipeline_runs',
      400,
      'VALIDATION_ERROR',
      /this is CREATE TABLE AS/,
    ],
    ['DROP', () => 'DROP TABLE tenant_step_logs', 400, 'VALIDATION_ERROR', /this is DROP/],
    [
      'ALTER',
      () => 'ALTER TABLE tenant_step_logs ADD COLUMN x int',
      400,
      'VALIDATION_ERROR',
      /this is ALTER TABLE/,
    ],
    [
      'GRANT',
      () => `GRANT SELECT ON tenant_pipeline_runs TO "${other()}"`,
      400,
      'VALIDATION_ERROR',
      /this is GRANT/,
    ],
    ['COPY ... TO PROGRAM', () => "COPY (SELECT 1) TO PROGRAM 'id'", 400, 'VALIDATION_ERROR', /this is COPY/],
    ['SET ROLE', () => `SET ROLE "${appUser}"`, 400, 'VALIDATION_ERROR', /this is SET/],
    ['RESET ROLE', () => 'RESET ROLE', 400, 'VALIDATION_ERROR', /this is SET/],
    [
      'SET SESSION AUTHORIZATION',
      () => `SET SESSION AUTHORIZATION "${appUser}"`,
      400,
      'VALIDATION_ERROR',
      /this is SET/,
    ],
    [
      "set_config('role', ...)",
      () => `SELECT set_config('role', '${other()}', true), * FROM tenant_globex.tenant_pipeline_runs`,
      400,
      'VALIDATION_ERROR',
      /set_config\(\) is not allowed/,
    ],
    [
      "another tenant's schema",
      () => 'SELECT * FROM tenant_globex.tenant_pipeline_runs',
      403,
      'INSUFFICIENT_PERMISSIONS',
      /permission denied for schema tenant_globex/,
    ],
    [
      "Conflux's own tables",
      () => 'SELECT * FROM public.api_keys',
      403,
      'INSUFFICIENT_PERMISSIONS',
      /permission denied for schema public/,
    ],
    [
      'pg_authid',
      () => 'SELECT rolname, rolpassword FROM pg_authid',
      403,
      'INSUFFICIENT_PERMISSIONS',
      /permission denied for table pg_authid/,
    ],
    [
      'pg_shadow',
      () => 'SELECT usename, passwd FROM pg_shadow',
      403,
      'INSUFFICIENT_PERMISSIONS',
      /permission denied for view pg_shadow/,
    ],
    [
      'pg_read_file',
      () => "SELECT pg_read_file('/etc/passwd')",
      400,
      'VALIDATION_ERROR',
      /pg_read_file\(\) is not allowed: it reads server files/,
    ],
    [
      'lo_import',
      () => "SELECT lo_import('/etc/passwd')",
      400,
      'VALIDATION_ERROR',
      /lo_import\(\) is not allowed/,
    ],
    [
      'pg_sleep',
      () => 'SELECT pg_sleep(60)',
      400,
      'VALIDATION_ERROR',
      /pg_sleep\(\) is not allowed: it sleeps/,
    ],
    [
      'a writable CTE',
      () => 'WITH x AS (DELETE FROM tenant_step_logs RETURNING *) SELECT * FROM x',
      400,
      'VALIDATION_ERROR',
      /changes data/,
    ],
    [
      'SELECT ... FOR UPDATE',
      () => 'SELECT * FROM tenant_pipeline_runs FOR UPDATE',
      400,
      'VALIDATION_ERROR',
      /FOR UPDATE locks rows/,
    ],
    [
      'nextval',
      () => "SELECT nextval('order_numbers')",
      400,
      'VALIDATION_ERROR',
      /nextval\(\) is not allowed: it changes a sequence/,
    ],
    [
      'setval',
      () => "SELECT setval('order_numbers', 1000)",
      400,
      'VALIDATION_ERROR',
      /setval\(\) is not allowed/,
    ],
    [
      'SELECT INTO',
      () => 'SELECT * INTO copied FROM tenant_pipeline_runs',
      400,
      'VALIDATION_ERROR',
      /INTO creates a table/,
    ],
    [
      'query_to_xml',
      () => "SELECT query_to_xml('select set_config(''statement_timeout'', ''0'', false)', true, true, '')",
      400,
      'VALIDATION_ERROR',
      /runs SQL text of its own/,
    ],
    ['pg_advisory_lock', () => 'SELECT pg_advisory_lock(7345201)', 400, 'VALIDATION_ERROR', /advisory locks/],
  ];

  it.each(cases)(
    'refuses %s with a clear 4xx, and nothing is read or changed',
    async (_name, sql, status, code, message) => {
      const before = await snapshot();
      const started = Date.now();
      const res = await query(sql());
      expect({ status: res.status, code: res.body.error_code }).toEqual({ status, code });
      expect(String(res.body.message)).toMatch(message);
      expect(res.body.rows).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('stops a query at the statement timeout: QUERY_TIMEOUT, and the connection is usable again', async () => {
    const started = Date.now();
    const res = await query('SELECT count(*) FROM (SELECT generate_series(1, 10000000000)) s');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'QUERY_TIMEOUT', details: { timeout_ms: TIMEOUT_MS } });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
    expect((await query('SELECT 1')).body.rows).toEqual([[1]]);
    const busy = await db.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND state = 'active'",
      [roleOf('acme')],
    );
    expect(busy.rows).toEqual([{ n: 0 }]);
  });
});

describe('the role wall (a session as the tenant role, no parser in front)', () => {
  let session: Client;

  beforeAll(async () => {
    // Trust authentication on the test server: the password is not what keeps this session in bounds.
    const url = new URL(backends.databaseUrl);
    url.username = roleOf('acme');
    url.password = '';
    session = new Client({ connectionString: url.href });
    await session.connect();
  });

  afterAll(async () => {
    await session?.end();
  });

  const fails = async (sql: string, pattern: RegExp) => {
    await expect(session.query(sql)).rejects.toThrow(pattern);
  };

  it('has read-only defaults, the statement timeout and a search_path of its own schema', async () => {
    const settings = await session.query(
      `SELECT current_setting('default_transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout,
              current_setting('search_path') AS path, current_setting('temp_file_limit') AS temp,
              current_setting('idle_in_transaction_session_timeout') AS idle,
              current_user AS user, session_user AS session`,
    );
    expect(settings.rows[0]).toEqual({
      ro: 'on',
      timeout: `${TIMEOUT_MS}ms`,
      path: 'tenant_acme, pg_catalog',
      temp: '512MB',
      idle: `${TIMEOUT_MS}ms`,
      user: roleOf('acme'),
      session: roleOf('acme'),
    });
    expect((await session.query('SELECT count(*)::int AS n FROM tenant_pipeline_runs')).rows).toEqual([
      { n: 1 },
    ]);
  });

  it('cannot write, even after turning read-only off: the role has SELECT only', async () => {
    await fails(
      "INSERT INTO tenant_dq_results (pipeline_logging_id, check_name, passed) SELECT pipeline_logging_id, 'x', true FROM tenant_pipeline_runs",
      /read-only transaction/,
    );
    await session.query('SET default_transaction_read_only = off');
    try {
      await fails(
        "INSERT INTO tenant_dq_results (pipeline_logging_id, check_name, passed) SELECT pipeline_logging_id, 'x', true FROM tenant_pipeline_runs",
        /permission denied for table tenant_dq_results/,
      );
      await fails('DELETE FROM tenant_step_logs', /permission denied/);
      await fails('TRUNCATE tenant_step_logs', /permission denied/);
      await fails('CREATE TABLE tenant_acme.mine (a int)', /permission denied for schema tenant_acme/);
      await fails('CREATE TEMP TABLE scratch (a int)', /permission denied to create temporary tables/);
      await fails('ALTER TABLE tenant_step_logs ADD COLUMN x int', /must be owner/);
      await fails('DROP TABLE tenant_step_logs', /must be owner/);
      // Not an error in Postgres, a warning: it holds no grant option, so nothing is granted.
      await session.query(`GRANT SELECT ON tenant_pipeline_runs TO "${roleOf('globex')}"`);
      const granted = await db.query(
        `SELECT has_table_privilege($1, 'tenant_acme.tenant_pipeline_runs', 'SELECT') AS g`,
        [roleOf('globex')],
      );
      expect(granted.rows).toEqual([{ g: false }]);
      await fails("SELECT nextval('tenant_acme.order_numbers')", /permission denied for sequence/);
      await fails('SELECT lo_create(0)', /permission denied for function lo_create/);
      await fails("SELECT pg_notify('conflux', 'x')", /permission denied for function pg_notify/);
    } finally {
      await session.query('RESET default_transaction_read_only');
    }
  });

  it("cannot reach another tenant's schema or Conflux's tables", async () => {
    await fails(
      'SELECT * FROM tenant_globex.tenant_pipeline_runs',
      /permission denied for schema tenant_globex/,
    );
    await fails('SELECT * FROM public.tenants', /permission denied for schema public/);
    await fails('SELECT * FROM pg_authid', /permission denied for table pg_authid/);
    await fails('SELECT * FROM pg_shadow', /permission denied for view pg_shadow/);
  });

  it('cannot become anyone else', async () => {
    await fails(`SET ROLE "${roleOf('globex')}"`, /permission denied to set role/);
    await fails(`SET ROLE "${appUser}"`, /permission denied to set role/);
    await fails(`SELECT set_config('role', '${roleOf('globex')}', false)`, /permission denied to set role/);
    await fails(`SET SESSION AUTHORIZATION "${appUser}"`, /permission denied to set session authorization/);
    await session.query('RESET ROLE');
    expect((await session.query('SELECT current_user AS u')).rows).toEqual([{ u: roleOf('acme') }]);
    await fails('SET temp_file_limit = -1', /permission denied to set parameter "temp_file_limit"/);
  });

  it('gets one statement per query on the extended protocol, whatever the text holds', async () => {
    // What the sandbox sends (a cursor: Parse/Bind/Execute), without the parser in front.
    const cursor = session.query(new Cursor('SELECT 1; DELETE FROM tenant_step_logs'));
    await expect(cursor.read(10)).rejects.toThrow(
      /cannot insert multiple commands into a prepared statement/,
    );
    await cursor.close();
    // Onboarding's dry run logged four steps; they are all still there.
    expect((await db.query('SELECT count(*)::int AS n FROM tenant_acme.tenant_step_logs')).rows).toEqual([
      { n: 4 },
    ]);
  });

  it('cannot read files, run programs, take advisory locks or sleep past the timeout', async () => {
    await fails("SELECT pg_read_file('/etc/passwd')", /permission denied for function pg_read_file/);
    await fails("SELECT lo_import('/etc/passwd')", /permission denied for function lo_import/);
    await fails("COPY (SELECT 1) TO PROGRAM 'id'", /pg_execute_server_program/);
    await fails('SELECT pg_advisory_lock(7345201)', /permission denied for function pg_advisory_lock/);
    const started = Date.now();
    await fails('SELECT pg_sleep(60)', /canceling statement due to statement timeout/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2000);
  });
});
