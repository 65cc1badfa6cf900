import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../../src/core/config/database.config';
import { dataSourceOptions } from '../../../src/core/database/data-source.options';
import { runMigrationsLocked } from '../../../src/core/database/migrate';
import { DataSandbox1764300000000 } from '../../../src/core/database/migrations/1764300000000-data-sandbox';
import { datasetRolePrefix } from '../../../src/modules/data/dataset.repository';
import { bearer, call, signToken } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let db: Client;
let role: string;

beforeAll(async () => {
  backends = await createTestBackends();
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  role = `${datasetRolePrefix(backends.databaseName)}legacy_ro`;
});

afterAll(async () => {
  await db?.end();
  await backends?.cleanup();
});

const legacy = bearer(signToken({}, { subject: 'legacy' }));

async function roleState(migrated = true) {
  const { rows } = await db.query(
    `SELECT r.rolcanlogin, a.rolpassword,
            (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS member_of,
            coalesce((SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}') AS settings,
            ${migrated ? "(SELECT key_id FROM data_sandbox_credentials WHERE tenant_id = 'legacy')" : 'NULL'} AS key_id
       FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = $1`,
    [role],
  );
  return rows[0] as {
    rolcanlogin: boolean;
    rolpassword: string | null;
    member_of: number;
    settings: string[];
    key_id: string | null;
  };
}

async function withApi<T>(env: Record<string, string>, fn: (api: RunningApi) => Promise<T>): Promise<T> {
  const api = await startTestApi({ ...backends.env, ...env });
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}

describe('tenants onboarded before the sandbox', () => {
  it('get LOGIN roles from the migration, and a password from the first query', async () => {
    // The database as it was: this migration not applied, and a tenant whose role is the old NOLOGIN kind.
    const dataSource = new DataSource(
      dataSourceOptions({ DATABASE_URL: backends.databaseUrl, DATABASE_POOL_SIZE: 2 } as DatabaseConfig),
    );
    await dataSource.initialize();
    try {
      const runner = dataSource.createQueryRunner();
      await new DataSandbox1764300000000().down(runner);
      await runner.release();
      await db.query(`DELETE FROM migrations WHERE name = 'DataSandbox1764300000000'`);
      await db.query(`INSERT INTO tenants (id, name, plan_code) VALUES ('legacy', 'Legacy Inc', 'SCALE')`);
      await db.query(`CREATE SCHEMA tenant_legacy`);
      await db.query(`CREATE TABLE tenant_legacy.things (id int PRIMARY KEY, name text)`);
      await db.query(`INSERT INTO tenant_legacy.things VALUES (1, 'one'), (2, 'two')`);
      await db.query(`CREATE ROLE "${role}" NOLOGIN NOINHERIT`);
      await db.query(`GRANT "${role}" TO CURRENT_USER`);
      await db.query(`GRANT USAGE ON SCHEMA tenant_legacy TO "${role}"`);
      await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA tenant_legacy TO "${role}"`);
      // A membership it must not keep.
      await db.query(`CREATE ROLE "${role}_extra" NOLOGIN`);
      await db.query(`GRANT "${role}_extra" TO "${role}"`);
      expect(await roleState(false)).toMatchObject({ rolcanlogin: false, member_of: 1, settings: [] });

      expect(await runMigrationsLocked(dataSource)).toEqual(['DataSandbox1764300000000']);
    } finally {
      await dataSource.destroy();
    }
    const migrated = await roleState();
    expect(migrated).toMatchObject({ rolcanlogin: true, rolpassword: null, member_of: 0, key_id: null });
    expect(migrated.settings).toEqual(
      expect.arrayContaining([
        'default_transaction_read_only=on',
        'statement_timeout=10000',
        'search_path=tenant_legacy, pg_catalog',
        'temp_file_limit=512MB',
      ]),
    );

    // This process runs with another timeout: the role follows its config once it connects.
    await withApi({ DATA_QUERY_TIMEOUT_MS: '7000' }, async (api) => {
      const res = await call(api.url, 'POST', '/api/v1/data/query', {
        credentials: legacy,
        body: { sql: 'SELECT id, name FROM things ORDER BY id' },
      });
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
    });
    const provisioned = await roleState();
    expect(provisioned.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(provisioned.key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(provisioned.settings).toEqual(expect.arrayContaining(['statement_timeout=7000']));
    expect(provisioned.settings).not.toContain('statement_timeout=10000');
  });

  it('get a new password when the stored one was sealed under another key', async () => {
    const before = await roleState();
    const key = randomBytes(32).toString('base64');
    await withApi({ DATA_ENCRYPTION_KEY: key }, async (api) => {
      const res = await call(api.url, 'POST', '/api/v1/data/query', {
        credentials: legacy,
        body: { sql: 'SELECT count(*) FROM things' },
      });
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual([[2]]);
    });
    const after = await roleState();
    expect(after.key_id).not.toBe(before.key_id);
    expect(after.rolpassword).not.toBe(before.rolpassword);
    // The same key again: the stored password opens, nothing changes.
    await withApi({ DATA_ENCRYPTION_KEY: key }, async (api) => {
      const res = await call(api.url, 'POST', '/api/v1/data/query', {
        credentials: legacy,
        body: { sql: 'SELECT 1' },
      });
      expect(res.status).toBe(200);
    });
    expect((await roleState()).rolpassword).toBe(after.rolpassword);
  });
});
