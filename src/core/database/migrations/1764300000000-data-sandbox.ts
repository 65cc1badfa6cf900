import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

async function rows<T>(q: QueryRunner, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await q.query(sql, params)) as T[];
}

/**
 * What the tenant roles get here, frozen with this migration: at its first connection for a tenant, each process
 * brings the role in line with its own DataConfig (and sets a password, which needs the application's key).
 */
function roleSettings(schema: string): Array<[string, string]> {
  return [
    ['default_transaction_read_only', 'on'],
    ['statement_timeout', '10000'],
    ['idle_in_transaction_session_timeout', '10000'],
    ['work_mem', `'8MB'`],
    ['"TimeZone"', `'UTC'`],
    ['search_path', `${quote(schema)}, pg_catalog`],
  ];
}

/** pg_catalog functions every role may run by default that write or lock outside a read-only transaction. */
const UNSAFE_PUBLIC_FUNCTIONS = `
  SELECT p.oid::regprocedure::text AS signature, p.proname LIKE '%advisory%' AS advisory
    FROM pg_proc p
   WHERE p.pronamespace = 'pg_catalog'::regnamespace
     AND (p.proname LIKE 'lo\\_%' OR p.proname IN ('loread', 'lowrite', 'pg_notify') OR p.proname LIKE '%advisory%')
   ORDER BY 1`;

interface Privileges {
  db: string;
  superuser: boolean;
  owns_database: boolean;
  owns_public: boolean;
  sets_temp_file_limit: boolean;
  /** pg_database_owner exists from Postgres 14 on. */
  has_owner_role: boolean;
}

/**
 * The tenant data sandbox. Each tenant's restricted role becomes a LOGIN role (so a sandbox session's user is the
 * role itself, not a pooled login that `SET ROLE`s, which one SELECT can undo), a member of no role, with
 * read-only, timeout, memory and search_path defaults; its password is set by the application, which alone holds
 * the key the passwords are stored under. Every role loses what PUBLIC grants by default and a sandbox has no
 * business with: the `public` schema, temporary tables, large objects, advisory locks and NOTIFY. Steps the
 * database user may not take are skipped with a warning, never half-done.
 */
export class DataSandbox1764300000000 implements MigrationInterface {
  name = 'DataSandbox1764300000000';
  private readonly logger = new Logger('Migrations');

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_sandbox_credentials (
        tenant_id text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        role_name text NOT NULL UNIQUE,
        secret text NOT NULL,
        key_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz NOT NULL DEFAULT now()
      )`);
    const can = await this.privileges(q);
    for (const { tenant_id, role } of await this.tenantRoles(q, can.db)) {
      const name = quote(role);
      await q.query(
        `ALTER ROLE ${name} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20`,
      );
      const memberOf = await rows<{ rolname: string }>(
        q,
        `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
          WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
        [role],
      );
      for (const { rolname } of memberOf) await q.query(`REVOKE ${quote(rolname)} FROM ${name}`);
      for (const [setting, value] of roleSettings(`tenant_${tenant_id}`))
        await q.query(`ALTER ROLE ${name} SET ${setting} = ${value}`);
      if (can.sets_temp_file_limit) await q.query(`ALTER ROLE ${name} SET temp_file_limit = '512MB'`);
      await q.query(`GRANT USAGE ON SCHEMA ${quote(`tenant_${tenant_id}`)} TO ${name}`);
      await q.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${quote(`tenant_${tenant_id}`)} TO ${name}`);
    }
    if (!can.sets_temp_file_limit)
      this.logger.warn('not permitted to set temp_file_limit: sandbox roles get none');
    await this.harden(q, can, 'REVOKE', 'FROM');
  }

  async down(q: QueryRunner): Promise<void> {
    const can = await this.privileges(q);
    await this.harden(q, can, 'GRANT', 'TO');
    for (const { role } of await this.tenantRoles(q, can.db)) {
      await q.query(`ALTER ROLE ${quote(role)} NOLOGIN PASSWORD NULL CONNECTION LIMIT -1`);
      await q.query(`ALTER ROLE ${quote(role)} RESET ALL`);
    }
    await q.query(`DROP TABLE data_sandbox_credentials`);
  }

  private async privileges(q: QueryRunner): Promise<Privileges> {
    const [row] = await rows<Privileges>(
      q,
      `
      SELECT current_database() AS db,
             r.rolsuper AS superuser,
             pg_has_role(current_user, d.datdba, 'USAGE') AS owns_database,
             pg_has_role(current_user, n.nspowner, 'USAGE') AS owns_public,
             r.rolsuper OR (current_setting('server_version_num')::int >= 150000
                            AND has_parameter_privilege('temp_file_limit', 'SET')) AS sets_temp_file_limit,
             current_setting('server_version_num')::int >= 140000 AS has_owner_role
        FROM pg_roles r, pg_database d, pg_namespace n
       WHERE r.rolname = current_user AND d.datname = current_database() AND n.nspname = 'public'`,
    );
    return row;
  }

  /** Roles are named `t<hash of the database name>_<tenant>_ro` (see DatasetRepository). */
  private async tenantRoles(q: QueryRunner, db: string): Promise<Array<{ tenant_id: string; role: string }>> {
    const prefix = `t${createHash('sha256').update(db).digest('hex').slice(0, 8)}_`;
    return rows<{ tenant_id: string; role: string }>(
      q,
      `SELECT t.id AS tenant_id, r.rolname AS role
         FROM tenants t JOIN pg_roles r ON r.rolname = $1 || t.id || '_ro'
        ORDER BY t.id`,
      [prefix],
    );
  }

  /** Takes (up) or gives back (down) PUBLIC's default rights that a sandbox role must not have. */
  private async harden(q: QueryRunner, can: Privileges, verb: 'REVOKE' | 'GRANT', to: 'FROM' | 'TO') {
    const skipped: string[] = [];
    if (can.superuser || can.owns_public) await q.query(`${verb} USAGE ON SCHEMA public ${to} PUBLIC`);
    else skipped.push('USAGE on schema public');
    if (can.superuser || can.owns_database)
      await q.query(`${verb} TEMPORARY ON DATABASE ${quote(can.db)} ${to} PUBLIC`);
    else skipped.push('TEMPORARY on the database');
    if (can.superuser) {
      const functions = await rows<{ signature: string; advisory: boolean }>(q, UNSAFE_PUBLIC_FUNCTIONS);
      for (const { signature, advisory } of functions) {
        await q.query(`${verb} EXECUTE ON FUNCTION pg_catalog.${signature} ${to} PUBLIC`);
        // Conflux's own locks (migrations, audit chains) keep working should it later run as the database's owner.
        if (advisory && can.has_owner_role) {
          const back = verb === 'REVOKE' ? 'GRANT' : 'REVOKE';
          await q.query(
            `${back} EXECUTE ON FUNCTION pg_catalog.${signature} ${back === 'GRANT' ? 'TO' : 'FROM'} pg_database_owner`,
          );
        }
      }
    } else skipped.push('EXECUTE on large-object, advisory-lock and NOTIFY functions');
    if (skipped.length > 0 && verb === 'REVOKE')
      this.logger.warn(
        `not permitted, so PUBLIC keeps: ${skipped.join('; ')} (the sandbox's parser still refuses them)`,
      );
  }
}
