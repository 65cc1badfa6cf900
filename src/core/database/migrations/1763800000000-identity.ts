import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Plans (seeded), tenants, users, memberships, platform admins, API keys and the append-only audit chain. */
export class Identity1763800000000 implements MigrationInterface {
  name = 'Identity1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plans (
        code text PRIMARY KEY,
        name text NOT NULL,
        daily_pipelines integer NOT NULL,
        concurrent_pipelines integer NOT NULL,
        team_members integer NOT NULL,
        providers integer NOT NULL,
        requests_per_minute integer NOT NULL,
        requests_per_hour integer NOT NULL
      )`);
    await q.query(`
      INSERT INTO plans (code, name, daily_pipelines, concurrent_pipelines, team_members, providers, requests_per_minute, requests_per_hour)
      VALUES ('STARTER', 'Starter', 6, 3, 2, 3, 100, 1000),
             ('PROFESSIONAL', 'Professional', 25, 5, 6, 6, 100, 1000),
             ('SCALE', 'Scale', 100, 10, 11, 10, 100, 1000)`);
    await q.query(`
      CREATE TABLE tenants (
        id text PRIMARY KEY CHECK (id ~ '^[a-zA-Z0-9_]{3,50}$'),
        name text NOT NULL,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
        plan_code text NOT NULL REFERENCES plans (code),
        config jsonb NOT NULL DEFAULT '{}',
        config_version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        password_hash text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
    await q.query(`
      CREATE TABLE memberships (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX memberships_tenant_idx ON memberships (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE platform_admins (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
        prefix text NOT NULL UNIQUE,
        key_hash text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE audit_events (
        event_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text,
        seq bigint NOT NULL,
        event_type text NOT NULL,
        "timestamp" timestamptz NOT NULL,
        actor text NOT NULL,
        x_user_id text,
        resource_type text NOT NULL,
        resource_id text,
        details jsonb NOT NULL DEFAULT '{}',
        sha256 text,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`);
    // One chain per tenant (NULL: platform events); a fork or a gap cannot be written.
    await q.query(
      `CREATE UNIQUE INDEX audit_events_chain_key ON audit_events (coalesce(tenant_id, ''), seq)`,
    );
    await q.query(
      `CREATE INDEX audit_events_resource_idx ON audit_events (tenant_id, resource_type, resource_id)`,
    );
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
    await q.query(`DROP TABLE api_keys, platform_admins, memberships, users, tenants, plans`);
  }
}
