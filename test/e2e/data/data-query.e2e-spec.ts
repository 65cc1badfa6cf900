import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { datasetRolePrefix } from '../../../src/modules/data/dataset.repository';
import {
  adminToken,
  apiKey,
  bearer,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let db: Client;
let acme: OnboardedTenant;
let globex: OnboardedTenant;
let viewer: Credentials;

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  globex = await onboardTenant(api.url, admin, 'globex');
  const key = await call(api.url, 'POST', '/api/v1/api-keys', {
    credentials: acme.ownerKey,
    body: { name: 'viewer', role: 'viewer' },
  });
  viewer = apiKey(key.body.api_key as string);
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

type QueryBody = {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  duration_ms: number;
};

async function query(
  sql: string,
  extra: { params?: unknown[]; limit?: number } = {},
  credentials: Credentials = acme.ownerKey,
  path = '/api/v1/data/query',
) {
  const res = await call(api.url, 'POST', path, { credentials, body: { sql, ...extra } });
  return { status: res.status, body: res.body as unknown as QueryBody & Record<string, unknown> };
}

describe('POST /data/query', () => {
  it('answers SELECT 1 with rows [[1]]', async () => {
    const res = await query('SELECT 1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      columns: [{ name: '?column?', type: 'integer' }],
      rows: [[1]],
      row_count: 1,
      truncated: false,
      duration_ms: expect.any(Number),
    });
  });

  it('joins two of the tenant’s tables by their unqualified names', async () => {
    const res = await query(
      `SELECT r.pipeline_id, s.step_id, d.check_name, d.passed
         FROM tenant_pipeline_runs r
         JOIN tenant_step_logs s USING (pipeline_logging_id)
         JOIN tenant_dq_results d USING (pipeline_logging_id)
        WHERE s.step_id = 'dq'
        ORDER BY d.check_name`,
    );
    expect(res.status).toBe(200);
    expect(res.body.columns).toEqual([
      { name: 'pipeline_id', type: 'text' },
      { name: 'step_id', type: 'text' },
      { name: 'check_name', type: 'text' },
      { name: 'passed', type: 'boolean' },
    ]);
    // Onboarding's dry-run pipeline: its data-quality step and each check it recorded.
    expect(res.body.rows).toEqual(
      [
        'allowed_values',
        'charge_period_order',
        'list_cost_non_negative',
        'not_null_mandatory',
        'totals_reconcile',
      ].map((check) => ['acme-dryrun', 'dq', check, true]),
    );
  });

  it('binds params ($1, $2, ...), arrays included, and refuses a count that does not match', async () => {
    const res = await query(
      'SELECT $1::int + $2::int AS sum, $3::text AS label, 3 = ANY($4::int[]) AS has3',
      {
        params: [2, 3, "it's", [1, 2, 3]],
      },
    );
    expect(res.body.rows).toEqual([[5, "it's", true]]);

    const wrong = await query('SELECT $1::int', { params: [1, 2] });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error_code: 'VALIDATION_ERROR', details: { reason: 'params' } });
  });

  it('cuts at `limit` (default 1000, at most 10000) and says truncated', async () => {
    const ten = await query('SELECT g FROM generate_series(1, 50) g', { limit: 10 });
    expect(ten.body).toMatchObject({ row_count: 10, truncated: true });
    expect(ten.body.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));

    const exact = await query('SELECT g FROM generate_series(1, 10) g', { limit: 10 });
    expect(exact.body).toMatchObject({ row_count: 10, truncated: false });

    const byDefault = await query('SELECT g FROM generate_series(1, 1500) g');
    expect(byDefault.body).toMatchObject({ row_count: 1000, truncated: true });

    const tooMany = await query('SELECT 1', { limit: 10_001 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    expect(String(tooMany.body.message)).toContain('10000');
  });

  it('caps a huge result by bytes without reading it all', async () => {
    const res = await query("SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 5000000) g", {
      limit: 10_000,
    });
    expect(res.status).toBe(200);
    expect(res.body.truncated).toBe(true);
    // 5 MB of ~1 KB rows: about 5,000 of them, far from the 10,000 asked for.
    expect(res.body.row_count).toBeGreaterThan(4000);
    expect(res.body.row_count).toBeLessThan(5300);
    expect(Buffer.byteLength(JSON.stringify(res.body.rows))).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(res.body.rows[0]).toEqual([1, 'x'.repeat(1000)]);
  });

  it('ends a session that sends far more than the byte cap, and the next query gets a fresh one', async () => {
    // 3 MB rows: the first fits the 5 MB cap, the second does not, the rest are more than the socket may carry.
    const wide = await query("SELECT g, repeat('x', 3000000) AS pad FROM generate_series(1, 10) g");
    expect(wide.status).toBe(200);
    expect(wide.body).toMatchObject({ row_count: 1, truncated: true });
    expect(wide.body.rows[0]).toEqual([1, 'x'.repeat(3_000_000)]);
    // One row bigger than the cap: nothing fits.
    const single = await query("SELECT repeat('x', 20000000) AS pad");
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ row_count: 0, truncated: true, rows: [] });
    const after = await query('SELECT 1 AS one');
    expect(after.status).toBe(200);
    expect(after.body.rows).toEqual([[1]]);
  });

  it('turns Postgres values into exact JSON', async () => {
    const res = await query(
      `SELECT 9007199254740993::bigint AS big, 42::bigint AS small, 12.30::numeric(12,2) AS amount,
              '2024-05-01 10:00:00.123456+02'::timestamptz AS at, '2024-05-01'::date AS day,
              '{"a": [1, 2]}'::jsonb AS doc, ARRAY['x', 'y'] AS tags, NULL::text AS nothing,
              '\\xdeadbeef'::bytea AS bytes, interval '1 day 2 hours' AS span, 1.5::float8 AS ratio`,
    );
    expect(res.body.rows).toEqual([
      [
        '9007199254740993',
        42,
        '12.30',
        '2024-05-01T08:00:00.123456Z',
        '2024-05-01',
        { a: [1, 2] },
        ['x', 'y'],
        null,
        '\\xdeadbeef',
        '1 day 02:00:00',
        1.5,
      ],
    ]);
    expect(res.body.columns.map((c) => c.type)).toEqual([
      'bigint',
      'bigint',
      'numeric(12,2)',
      'timestamp with time zone',
      'date',
      'jsonb',
      'text[]',
      'text',
      'bytea',
      'interval',
      'double precision',
    ]);
  });

  it('answers syntax errors 400 with Postgres’s message and position', async () => {
    const res = await query('SELECT amount FROM');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error_code: 'VALIDATION_ERROR',
      message: 'syntax error at end of input',
      details: { sqlstate: '42601', position: 19 },
    });
    const unknown = await query('SELECT nope FROM tenant_pipeline_runs');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      error_code: 'VALIDATION_ERROR',
      message: 'column "nope" does not exist',
      details: { sqlstate: '42703', position: 8 },
    });
    const division = await query('SELECT 1 / 0');
    expect(division.body).toMatchObject({ message: 'division by zero', details: { sqlstate: '22012' } });
  });

  it("runs each tenant's query as its own role, over its own schema", async () => {
    const mine = await query('SELECT current_user, session_user, current_schemas(false)');
    const theirs = await query(
      'SELECT current_user, session_user, current_schemas(false)',
      {},
      globex.ownerKey,
    );
    const [[user, session, schemas]] = mine.body.rows as [[string, string, string[]]];
    // name[] parses as an array like text[] does.
    expect(user).toMatch(/^t[0-9a-f]{8}_acme_ro$/);
    expect(session).toBe(user);
    expect(schemas).toEqual(['tenant_acme', 'pg_catalog']);
    expect(theirs.body.rows[0][0]).toMatch(/_globex_ro$/);
    const runs = await query('SELECT pipeline_id FROM tenant_pipeline_runs', {}, globex.ownerKey);
    expect(runs.body.rows).toEqual([['globex-dryrun']]);
  });

  it('handles tenant ids that need quoting (mixed case) in role settings and search_path', async () => {
    const mixed = await onboardTenant(api.url, await loginAdmin(api.url), 'MixedCase');
    const res = await query(
      'SELECT current_schemas(false), count(*) FROM tenant_pipeline_runs',
      {},
      mixed.ownerKey,
    );
    expect(res.body.rows).toEqual([[['tenant_MixedCase', 'pg_catalog'], 1]]);
    const { rows } = await db.query<{ setconfig: string[] }>(
      `SELECT setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [`${datasetRolePrefix(backends.databaseName)}MixedCase_ro`],
    );
    expect(rows[0].setconfig).toEqual(
      expect.arrayContaining([
        'search_path="tenant_MixedCase", pg_catalog',
        'statement_timeout=10000',
        'TimeZone=UTC',
      ]),
    );
  });

  it('lets members and owners query, not viewers; a platform admin names the tenant', async () => {
    const denied = await query('SELECT 1', {}, viewer);
    expect(denied.status).toBe(403);
    expect(denied.body.error_code).toBe('INSUFFICIENT_PERMISSIONS');

    const admin = bearer(adminToken());
    const asAdmin = await query(
      'SELECT pipeline_id FROM tenant_pipeline_runs',
      {},
      admin,
      '/api/v1/data/query?tenantId=globex',
    );
    expect(asAdmin.body.rows).toEqual([['globex-dryrun']]);
    const unnamed = await query('SELECT 1', {}, admin);
    expect(unnamed.status).toBe(400);
    const unknown = await query('SELECT 1', {}, admin, '/api/v1/data/query?tenantId=nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_code).toBe('TENANT_NOT_FOUND');
  });

  it('audits every query as data.query: a SHA-256 of the SQL, the outcome, rows and duration, never the rows', async () => {
    const sql = "SELECT 'audited-secret-value' AS v";
    await query(sql);
    await query('SELECT pg_sleep(1)');
    const events = await call(api.url, 'GET', '/api/v1/audit/events?resource_type=dataset&limit=100', {
      credentials: acme.ownerKey,
    });
    const items = events.body.items as Array<{
      event_type: string;
      sha256: string;
      details: Record<string, unknown>;
    }>;
    const sha = createHash('sha256').update(sql).digest('hex');
    const ok = items.find((e) => e.sha256 === sha);
    expect(ok).toMatchObject({
      event_type: 'data.query',
      details: { sql_sha256: sha, outcome: 'ok', row_count: 1, truncated: false, via: 'api' },
    });
    expect(typeof ok?.details.duration_ms).toBe('number');
    expect(JSON.stringify(items)).not.toContain('audited-secret-value');
    const refused = items.find(
      (e) => e.sha256 === createHash('sha256').update('SELECT pg_sleep(1)').digest('hex'),
    );
    expect(refused?.details).toMatchObject({
      outcome: 'refused',
      reason: 'function',
      error_code: 'VALIDATION_ERROR',
    });
  });

  it('audits concurrent queries once each, alone or group-committed, each with its own actor, on an unbroken chain', async () => {
    const memberKey = await call(api.url, 'POST', '/api/v1/api-keys', {
      credentials: acme.ownerKey,
      body: { name: 'member', role: 'member' },
    });
    const member = apiKey(memberKey.body.api_key as string);
    const actorOf = async (credentials: Credentials) =>
      `api_key:${(await call(api.url, 'GET', '/api/v1/auth/me', { credentials })).body.api_key_id as string}`;
    const actors = { owner: await actorOf(acme.ownerKey), member: await actorOf(member) };
    const marker = `concurrent-${Date.now()}`;
    const sqls = Array.from({ length: 40 }, (_, i) => `SELECT ${i} AS n, '${marker}' AS m`);
    const by = (i: number) => (i % 2 === 0 ? 'owner' : 'member');
    const answers = await Promise.all(
      sqls.map((sql, i) => query(sql, {}, by(i) === 'owner' ? acme.ownerKey : member)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    const alone = await query(`SELECT '${marker}-alone'`);
    expect(alone.status).toBe(200);
    const sha = (sql: string) => createHash('sha256').update(sql).digest('hex');
    const expected = [
      ...sqls.map((sql, i) => ({ sha256: sha(sql), actor: actors[by(i)] })),
      { sha256: sha(`SELECT '${marker}-alone'`), actor: actors.owner },
    ];
    const { rows } = await db.query<{ sha256: string; actor: string }>(
      `SELECT sha256, actor FROM audit_events WHERE tenant_id = 'acme' AND sha256 = ANY($1)`,
      [expected.map((e) => e.sha256)],
    );
    const order = (a: { sha256: string }, b: { sha256: string }) => a.sha256.localeCompare(b.sha256);
    expect(rows.sort(order)).toEqual(expected.sort(order));
    const verify = await call(api.url, 'GET', '/api/v1/audit/verify', { credentials: acme.ownerKey });
    expect(verify.body).toMatchObject({ valid: true, first_broken: null });
  });

  it('exports query, refusal and pool metrics', async () => {
    const text = await (
      await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${adminToken()}` } })
    ).text();
    expect(text).toMatch(/conflux_data_query_duration_seconds_count\{via="api",outcome="ok"\} \d+/);
    expect(text).toMatch(/conflux_data_queries_refused_total\{reason="function"\} [1-9]/);
    expect(text).toMatch(/conflux_data_sandbox_connections\{state="open"\} [1-9]/);
    expect(text).toMatch(/conflux_data_sandbox_pools [1-9]/);
  });
});

describe('GET /data/tables', () => {
  it("lists the tenant's tables with columns and row estimates, a new one included", async () => {
    await db.query(
      `CREATE TABLE tenant_acme.orders (id integer PRIMARY KEY, amount numeric(12,2) NOT NULL, note text)`,
    );
    await db.query(`INSERT INTO tenant_acme.orders VALUES (1, 10.50, 'a'), (2, 4.25, NULL), (3, 1.00, 'c')`);
    const res = await call(api.url, 'GET', '/api/v1/data/tables', { credentials: viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schema: 'tenant_acme', total: 4 });
    const items = res.body.items as Array<{
      name: string;
      kind: string;
      row_estimate: number;
      columns: unknown[];
    }>;
    expect(items.map((t) => t.name)).toEqual([
      'orders',
      'tenant_dq_results',
      'tenant_pipeline_runs',
      'tenant_step_logs',
    ]);
    expect(items[0]).toEqual({
      name: 'orders',
      kind: 'table',
      row_estimate: 3,
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'amount', type: 'numeric(12,2)', nullable: false },
        { name: 'note', type: 'text', nullable: true },
      ],
    });
    expect(items.find((t) => t.name === 'tenant_pipeline_runs')?.row_estimate).toBe(1);

    const sum = await query('SELECT sum(amount) AS total, count(note) AS notes FROM orders');
    expect(sum.body.rows).toEqual([['15.75', 2]]);
    // Another tenant's listing does not show it.
    const theirs = await call(api.url, 'GET', '/api/v1/data/tables', { credentials: globex.ownerKey });
    expect((theirs.body.items as Array<{ name: string }>).map((t) => t.name)).not.toContain('orders');
  });
});

describe('Launchpad aliases', () => {
  it('answer POST /api/data/query and GET /api/data/tables exactly as their /api/v1 twins', async () => {
    const aliased = await query('SELECT 1', {}, acme.ownerKey, '/api/data/query');
    expect(aliased.status).toBe(200);
    expect(aliased.body.rows).toEqual([[1]]);
    const refused = await query('DELETE FROM orders', {}, acme.ownerKey, '/api/data/query');
    expect(refused.status).toBe(400);
    expect(refused.body.details).toMatchObject({ reason: 'not_select' });
    const twin = await call(api.url, 'GET', '/api/v1/data/tables', { credentials: acme.ownerKey });
    const alias = await call(api.url, 'GET', '/api/data/tables', { credentials: acme.ownerKey });
    expect(alias.status).toBe(200);
    expect(alias.body).toEqual(twin.body);
    expect((await call(api.url, 'GET', '/api/data/tables')).status).toBe(401);
  });
});

describe('sql.query step', () => {
  it('runs in a workflow: params from templates, rows in the output', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          {
            id: 'q',
            type: 'sql.query',
            config: {
              sql: 'SELECT $1::int * 2 AS doubled, count(*) AS runs FROM tenant_pipeline_runs WHERE pipeline_id = $2',
              params: ['{{ input.n }}', '{{ input.pipeline }}'],
            },
          },
          { id: 'after', type: 'transform', config: { expression: 'steps.q.output.rows[0][0] + 1' } },
        ],
        ['start->q', 'q->after'],
      ),
    );
    const started = await startRun(api.url, acme, id, { n: 21, pipeline: 'acme-dryrun' });
    const run = await waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed']);
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.context.steps.q.output).toEqual({
      columns: [
        { name: 'doubled', type: 'integer' },
        { name: 'runs', type: 'bigint' },
      ],
      rows: [[42, 1]],
      row_count: 1,
      truncated: false,
    });
    expect(run.context.steps.after.output).toBe(43);
  });

  it('fails the step at once on a refused statement, naming why', async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'q', type: 'sql.query', config: { sql: 'DELETE FROM tenant_step_logs' } },
        ],
        ['start->q'],
      ),
    );
    const started = await startRun(api.url, acme, id, {});
    const run = await waitForStatus(api.url, acme, started.body.id as string, ['completed', 'failed']);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('Only SELECT queries run here');
    // The dry run's four step logs are still there.
    expect((await db.query('SELECT count(*)::int AS n FROM tenant_acme.tenant_step_logs')).rows).toEqual([
      { n: 4 },
    ]);
  });

  it('refuses {{ }} templates in the SQL text at publish', async () => {
    const created = await call(api.url, 'POST', '/api/v1/workflows', {
      credentials: acme.ownerKey,
      body: {
        name: 'spliced',
        definition: graph(
          [
            { id: 'start', type: 'trigger.manual' },
            {
              id: 'q',
              type: 'sql.query',
              config: { sql: "SELECT * FROM orders WHERE note = '{{ input.note }}'" },
            },
          ],
          ['start->q'],
        ),
      },
    });
    const published = await call(api.url, 'POST', `/api/v1/workflows/${created.body.id as string}/publish`, {
      credentials: acme.ownerKey,
    });
    expect(published.status).toBe(400);
    expect(JSON.stringify(published.body.details)).toContain(
      "node 'q' (sql.query): config/sql must match pattern",
    );
  });
});
