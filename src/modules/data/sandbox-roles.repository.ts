import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { type RoleSetting, quoteIdent } from './sandbox-settings';

// Advisory lock class for a tenant's sandbox credentials (audit chains use 7_345_202).
const CREDENTIALS_LOCK = 7_345_203;

/**
 * Postgres roles are cluster-wide while schemas live in one database, so role names carry a short hash of
 * the database name: two Conflux databases on one server (or two test databases) never share a role.
 */
export function datasetRolePrefix(databaseName: string): string {
  return `t${createHash('sha256').update(databaseName).digest('hex').slice(0, 8)}_`;
}

export interface StoredCredential {
  role_name: string;
  /** AES-256-GCM sealed password (see SandboxSecrets). */
  secret: string;
  key_id: string;
}

export interface RoleState {
  can_login: boolean;
  connection_limit: number;
  /** `name=value` entries of the role's defaults (pg_db_role_setting, all databases). */
  settings: string[];
}

/**
 * The tenant's sandbox role and its stored credential (table `data_sandbox_credentials`). Roles are created,
 * altered and read here only; every method takes the tenant id. DDL runs in the surrounding transaction.
 */
@Injectable()
export class SandboxRoleRepository {
  private rolePrefix?: string;

  constructor(private readonly tx: Transactions) {}

  async roleName(tenantId: string): Promise<string> {
    if (!this.rolePrefix) {
      const [{ db }] = await this.tx
        .manager()
        .query<Array<{ db: string }>>('SELECT current_database() AS db');
      this.rolePrefix = datasetRolePrefix(db);
    }
    return `${this.rolePrefix}${tenantId}_ro`;
  }

  /**
   * A LOGIN role that is a member of no role and inherits nothing. Conflux's own login becomes a member of it
   * (SET ROLE for the onboarding dry run; cancelling its sessions) even when it is not a superuser.
   */
  async create(tenantId: string, verifier: string, connectionLimit: number): Promise<void> {
    const role = quoteIdent(await this.roleName(tenantId));
    await this.tx
      .manager()
      .query(
        `CREATE ROLE ${role} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS ` +
          `CONNECTION LIMIT ${Math.trunc(connectionLimit)} PASSWORD ${literal(verifier)}`,
      );
    await this.tx.manager().query(`GRANT ${role} TO CURRENT_USER`);
  }

  /** `verifier` is a SCRAM verifier: Postgres stores it as is, and never sees (or logs) the password. */
  async setPassword(tenantId: string, verifier: string): Promise<void> {
    const role = quoteIdent(await this.roleName(tenantId));
    await this.tx.manager().query(`ALTER ROLE ${role} LOGIN PASSWORD ${literal(verifier)}`);
  }

  async state(tenantId: string): Promise<RoleState | undefined> {
    const [row] = await this.tx.rows<RoleState>(
      `SELECT r.rolcanlogin AS can_login, r.rolconnlimit AS connection_limit,
              coalesce((SELECT s.setconfig FROM pg_db_role_setting s
                         WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}') AS settings
         FROM pg_roles r WHERE r.rolname = $1`,
      [await this.roleName(tenantId)],
    );
    return row;
  }

  async configure(tenantId: string, settings: RoleSetting[], connectionLimit: number): Promise<void> {
    const role = quoteIdent(await this.roleName(tenantId));
    const q = (sql: string) => this.tx.manager().query(sql);
    await q(`ALTER ROLE ${role} LOGIN CONNECTION LIMIT ${Math.trunc(connectionLimit)}`);
    for (const setting of settings)
      await q(`ALTER ROLE ${role} SET ${quoteIdent(setting.name)} = ${setting.sql}`);
  }

  /** temp_file_limit is superuser-only: on a role, only a superuser (or, from Postgres 15, a grantee) sets it. */
  async mayLimitTempFiles(): Promise<boolean> {
    const [row] = await this.tx.rows<{ may: boolean }>(
      `SELECT r.rolsuper OR (current_setting('server_version_num')::int >= 150000
                             AND has_parameter_privilege('temp_file_limit', 'SET')) AS may
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    return row?.may ?? false;
  }

  async credential(tenantId: string): Promise<StoredCredential | undefined> {
    const [row] = await this.tx.rows<StoredCredential>(
      'SELECT role_name, secret, key_id FROM data_sandbox_credentials WHERE tenant_id = $1',
      [tenantId],
    );
    return row;
  }

  async storeCredential(tenantId: string, secret: string, keyId: string): Promise<void> {
    await this.tx.manager().query(
      `INSERT INTO data_sandbox_credentials (tenant_id, role_name, secret, key_id)
            VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE
              SET role_name = excluded.role_name, secret = excluded.secret, key_id = excluded.key_id,
                  rotated_at = now()`,
      [tenantId, await this.roleName(tenantId), secret, keyId],
    );
  }

  /** Serialises password changes of one tenant across processes until the transaction ends. */
  async lockCredential(tenantId: string): Promise<void> {
    await this.tx
      .manager()
      .query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CREDENTIALS_LOCK, tenantId]);
  }

  /** Ends a sandbox session that outlived its deadline; only if it is still that tenant's session. */
  async terminate(tenantId: string, pid: number): Promise<void> {
    await this.tx.rows(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND usename = $2',
      [pid, await this.roleName(tenantId)],
    );
  }
}

/** A string literal for DDL that takes no parameters (CREATE/ALTER ROLE). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
