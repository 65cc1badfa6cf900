import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';
import { datasetRolePrefix } from '../../../src/modules/data/dataset.repository';

let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let db: Client;
let acme: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  acme = await onboardTenant(api.url, admin, 'acme');
  await onboardTenant(api.url, admin, 'globex');
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

const roleOf = (tenantId: string) => `${datasetRolePrefix(backends.databaseName)}${tenantId}_ro`;

async function asRole<T>(tenantId: string, sql: string): Promise<T[]> {
  await db.query('BEGIN');
  try {
    await db.query(`SET LOCAL ROLE "${roleOf(tenantId)}"`);
    return (await db.query(sql)).rows as T[];
  } finally {
    await db.query('ROLLBACK');
  }
}

describe('tenant onboarding', () => {
  it('answers with the SPEC shape and a working owner API key', async () => {
    expect(acme.response).toMatchObject({
      tenant_id: 'acme',
      api_key: expect.stringMatching(/^cfx_[A-Za-z0-9]{8}_[\w-]{43}$/),
      subscription_plan: 'SCALE',
      dataset_created: true,
      tables_created: ['tenant_pipeline_runs', 'tenant_step_logs', 'tenant_dq_results'],
      dryrun_status: 'SUCCESS',
      message: expect.any(String),
    });
    const me = await call(api.url, 'GET', '/api/v1/auth/me', { credentials: acme.ownerKey });
    expect(me.body).toMatchObject({ tenant_id: 'acme', role: 'owner', via: 'api_key' });
  });

  it('creates the schema, its three tables, the restricted role, and records the dry run', async () => {
    const tables = await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'tenant_acme' ORDER BY table_name`,
    );
    expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
      'tenant_dq_results',
      'tenant_pipeline_runs',
      'tenant_step_logs',
    ]);
    // A LOGIN role (sandbox sessions log in as it) that is a member of no other role.
    const role = await db.query(
      `SELECT rolcanlogin, rolsuper, (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS member_of
         FROM pg_roles r WHERE rolname = $1`,
      [roleOf('acme')],
    );
    expect(role.rows).toEqual([{ rolcanlogin: true, rolsuper: false, member_of: 0 }]);
    const runs = await asRole<{ trigger_type: string; status: string }>(
      'acme',
      'SELECT trigger_type, status FROM tenant_acme.tenant_pipeline_runs',
    );
    expect(runs).toEqual([{ trigger_type: 'dryrun', status: 'COMPLETE' }]);
    // The dry run was a real pipeline: the AWS sample's first rows extracted, mapped to FOCUS, loaded (into a
    // table dropped afterwards, so the schema holds only its three tables) and checked.
    const steps = await asRole<{ step_id: string; status: string; message: string }>(
      'acme',
      'SELECT step_id, status, message FROM tenant_acme.tenant_step_logs ORDER BY started_at',
    );
    expect(steps).toEqual([
      { step_id: 'extract', status: 'COMPLETE', message: 'copied 25 rows from the sample export' },
      { step_id: 'focus', status: 'COMPLETE', message: '25 rows mapped to FOCUS' },
      { step_id: 'load', status: 'COMPLETE', message: 'loaded 25 rows into x_dryrun_focus (replaced 0)' },
      { step_id: 'dq', status: 'COMPLETE', message: '5 checks, all passed' },
    ]);
    const checks = await asRole<{ passed: boolean }>(
      'acme',
      'SELECT passed FROM tenant_acme.tenant_dq_results',
    );
    expect(checks).toEqual(Array.from({ length: 5 }, () => ({ passed: true })));
    const staged = await db.query(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'pipeline_stage'`,
    );
    expect(staged.rows).toEqual([{ n: 0 }]);
  });

  it("lets the role read only its own schema: not another tenant's, not Conflux's tables", async () => {
    await expect(asRole('acme', 'SELECT * FROM tenant_globex.tenant_pipeline_runs')).rejects.toThrow(
      /permission denied/,
    );
    await expect(asRole('acme', 'SELECT * FROM public.tenants')).rejects.toThrow(/permission denied/);
    await expect(asRole('acme', 'SELECT * FROM public.api_keys')).rejects.toThrow(/permission denied/);
    await expect(
      asRole(
        'acme',
        `INSERT INTO tenant_acme.tenant_dq_results (pipeline_logging_id, check_name, passed)
                                 SELECT pipeline_logging_id, 'x', true FROM tenant_acme.tenant_pipeline_runs`,
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('lets the owner log in with the onboarding password', async () => {
    const login = await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { email: acme.ownerEmail, password: acme.ownerPassword },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const me = await call(api.url, 'GET', '/api/v1/auth/me', {
      credentials: { headers: { authorization: `Bearer ${login.body.token as string}` } },
    });
    expect(me.body).toMatchObject({
      tenant_id: 'acme',
      role: 'owner',
      via: 'jwt',
      user_id: acme.ownerUserId,
    });
  });

  it('generates and returns the owner password once when none is given', async () => {
    const res = await call(api.url, 'POST', '/api/v1/tenants/onboard', {
      credentials: admin,
      body: {
        tenant_id: 'initech',
        company_name: 'Initech',
        admin_email: 'bill@initech.test',
        subscription_plan: 'STARTER',
      },
    });
    expect(res.status).toBe(201);
    const login = await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'bill@initech.test', password: res.body.admin_password },
    });
    expect(login.status).toBe(200);
  });

  it('answers 409 for a duplicate tenant_id and 400 with the pattern for an invalid one', async () => {
    const body = { company_name: 'X', admin_email: 'x@x.test', subscription_plan: 'STARTER' };
    const dup = await call(api.url, 'POST', '/api/v1/tenants/onboard', {
      credentials: admin,
      body: { ...body, tenant_id: 'acme' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error_code).toBe('CONFLICT');

    const bad = await call(api.url, 'POST', '/api/v1/tenants/onboard', {
      credentials: admin,
      body: { ...body, tenant_id: 'no-dashes!' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(bad.body.details)).toContain('^[a-zA-Z0-9_]{3,50}$');
  });

  /** POST /tenants/onboard of a STARTER tenant whose owner is owner@<id>.test, answered as it is. */
  const onboardStarter = (tenantId: string) =>
    call(api.url, 'POST', '/api/v1/tenants/onboard', {
      credentials: admin,
      body: {
        tenant_id: tenantId,
        company_name: tenantId,
        admin_email: `owner@${tenantId}.test`,
        subscription_plan: 'STARTER',
      },
    });

  it('leaves nothing behind when it fails half-way (after the tenant, owner, key and schema exist)', async () => {
    // A role of that name already exists: CREATE ROLE fails after everything before it succeeded.
    await db.query(`CREATE ROLE "${roleOf('halfway')}" NOLOGIN`);
    try {
      const res = await onboardStarter('halfway');
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toMatch(/CREATE ROLE|already exists/);
      const leftovers = await db.query(`
        SELECT (SELECT count(*) FROM tenants WHERE id = 'halfway')::int AS tenants,
               (SELECT count(*) FROM users WHERE email = 'owner@halfway.test')::int AS users,
               (SELECT count(*) FROM api_keys WHERE tenant_id = 'halfway')::int AS keys,
               (SELECT count(*) FROM audit_events WHERE tenant_id = 'halfway')::int AS events,
               (SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'tenant_halfway')::int AS schemas`);
      expect(leftovers.rows[0]).toEqual({ tenants: 0, users: 0, keys: 0, events: 0, schemas: 0 });
    } finally {
      await db.query(`DROP ROLE "${roleOf('halfway')}"`);
    }
    // With the obstacle gone the same request succeeds: nothing half-made blocks it.
    await onboardTenant(api.url, admin, 'halfway', 'STARTER');
  });

  it('refuses the tenant, keeping nothing, when its dry-run pipeline fails', async () => {
    // The load step's record is refused as bad data: the dry run fails as a pipeline would, not as a fault.
    await db.query(`
      CREATE FUNCTION refuse_load() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.stage = 'load' THEN RAISE EXCEPTION 'no loads today' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_load BEFORE INSERT ON pipeline_stage_stats FOR EACH ROW EXECUTE FUNCTION refuse_load();`);
    try {
      const res = await onboardStarter('dryfail');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({
        error_code: 'DATASET_DRYRUN_FAILED',
        message: "The dataset of 'dryfail' failed its dry run",
      });
      const leftovers = await db.query(`
        SELECT (SELECT count(*) FROM tenants WHERE id = 'dryfail')::int AS tenants,
               (SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'tenant_dryfail')::int AS schemas,
               (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'pipeline_stage')::int AS staged`);
      expect(leftovers.rows[0]).toEqual({ tenants: 0, schemas: 0, staged: 0 });
    } finally {
      await db.query('DROP TRIGGER refuse_load ON pipeline_stage_stats; DROP FUNCTION refuse_load()');
    }
    await onboardTenant(api.url, admin, 'dryfail', 'STARTER');
  });
});
