import { Injectable } from '@nestjs/common';
import { DataConfig } from '../../core/config/data.config';
import { Transactions } from '../../core/database/transaction';
import { SandboxRoleRepository } from './sandbox-roles.repository';
import { credentialContext, SandboxSecrets, scramVerifier } from './sandbox-secrets';
import { quoteIdent as quote, sandboxRoleSettings } from './sandbox-settings';

export { datasetRolePrefix } from './sandbox-roles.repository';

export const DATASET_TABLES = ['tenant_pipeline_runs', 'tenant_step_logs', 'tenant_dq_results'] as const;

/** A table or view of a tenant's schema, as `GET /data/tables` lists it. */
export interface DatasetTable {
  name: string;
  kind: 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table';
  row_estimate: number | null;
  columns: Array<{ name: string; type: string; nullable: boolean }>;
}

const KINDS: Record<string, DatasetTable['kind']> = {
  r: 'table',
  p: 'partitioned_table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
};

/** Tables never analyzed have no estimate (reltuples -1): those are counted, up to this many rows. */
const COUNT_UNANALYZED_UP_TO = 100_000;

/**
 * A tenant's dataset: its own schema, holding its data tables, and a LOGIN role that can read that schema and
 * nothing else. Conflux writes as itself; tenant SQL runs in sessions whose user is that role (see SandboxPools).
 */
@Injectable()
export class DatasetRepository {
  constructor(
    private readonly tx: Transactions,
    private readonly roles: SandboxRoleRepository,
    private readonly secrets: SandboxSecrets,
    private readonly config: DataConfig,
  ) {}

  schemaName(tenantId: string): string {
    return `tenant_${tenantId}`;
  }

  roleName(tenantId: string): Promise<string> {
    return this.roles.roleName(tenantId);
  }

  /** Creates schema, tables and role in the surrounding transaction: all of it or, on failure, none. */
  async provision(tenantId: string): Promise<string[]> {
    const q = (sql: string) => this.tx.manager().query(sql);
    const schema = quote(this.schemaName(tenantId));
    const role = quote(await this.roleName(tenantId));
    await q(`CREATE SCHEMA ${schema}`);
    await q(`
      CREATE TABLE ${schema}.tenant_pipeline_runs (
        pipeline_logging_id uuid PRIMARY KEY,
        pipeline_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETE', 'FAILED')),
        trigger_type text NOT NULL,
        trigger_by text,
        start_time timestamptz NOT NULL DEFAULT now(),
        end_time timestamptz,
        duration_ms integer,
        error text,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await q(`
      CREATE TABLE ${schema}.tenant_step_logs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pipeline_logging_id uuid NOT NULL REFERENCES ${schema}.tenant_pipeline_runs ON DELETE CASCADE,
        step_id text NOT NULL,
        status text NOT NULL,
        message text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await q(`
      CREATE TABLE ${schema}.tenant_dq_results (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pipeline_logging_id uuid NOT NULL REFERENCES ${schema}.tenant_pipeline_runs ON DELETE CASCADE,
        check_name text NOT NULL,
        passed boolean NOT NULL,
        observed jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    const password = this.secrets.newPassword();
    await this.roles.create(tenantId, scramVerifier(password), this.config.DATA_ROLE_CONNECTION_LIMIT);
    await q(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await q(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await q(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${role}`);
    await this.roles.configure(
      tenantId,
      sandboxRoleSettings(this.config, this.schemaName(tenantId), await this.roles.mayLimitTempFiles()),
      this.config.DATA_ROLE_CONNECTION_LIMIT,
    );
    const context = credentialContext(tenantId, await this.roleName(tenantId));
    await this.roles.storeCredential(tenantId, this.secrets.seal(password, context), this.secrets.keyId);
    return [...DATASET_TABLES];
  }

  /** Pipeline usage for quotas: runs started today (UTC), runs in flight, the providers used so far. */
  async pipelineUsage(tenantId: string): Promise<{ today: number; running: number; providers: string[] }> {
    const schema = quote(this.schemaName(tenantId));
    const [row] = await this.tx
      .manager()
      .query<Array<{ today: string; running: string; providers: string[] }>>(
        `SELECT count(*) FILTER (WHERE start_time >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS today,
              count(*) FILTER (WHERE status IN ('PENDING', 'RUNNING')) AS running,
              COALESCE(array_agg(DISTINCT split_part(pipeline_id, '-', 2)), '{}') AS providers
         FROM ${schema}.tenant_pipeline_runs
        WHERE trigger_type <> 'dryrun'`,
      );
    return { today: Number(row.today), running: Number(row.running), providers: row.providers };
  }

  /** Whether the tenant has a dataset (its role exists). */
  async exists(tenantId: string): Promise<boolean> {
    return (await this.roles.state(tenantId)) !== undefined;
  }

  /**
   * The tables and views of the tenant's schema that its role may read, with columns (Postgres types as
   * `format_type` writes them) and row estimates (`reltuples`; a table never analyzed is counted, capped).
   */
  async tables(tenantId: string): Promise<DatasetTable[]> {
    const schema = this.schemaName(tenantId);
    const rows = await this.tx.rows<{
      name: string;
      relkind: string;
      reltuples: number;
      column_name: string | null;
      type: string | null;
      nullable: boolean | null;
    }>(
      `SELECT c.relname AS name, c.relkind, c.reltuples::float8 AS reltuples,
              a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
          AND has_table_privilege($2, c.oid, 'SELECT')
        ORDER BY c.relname, a.attnum`,
      [schema, await this.roleName(tenantId)],
    );
    const tables = new Map<string, DatasetTable & { reltuples: number }>();
    for (const row of rows) {
      let table = tables.get(row.name);
      if (!table) {
        const kind = KINDS[row.relkind];
        const estimate = kind === 'view' ? null : row.reltuples >= 0 ? Math.round(row.reltuples) : null;
        table = { name: row.name, kind, row_estimate: estimate, columns: [], reltuples: row.reltuples };
        tables.set(row.name, table);
      }
      if (row.column_name !== null)
        table.columns.push({
          name: row.column_name,
          type: row.type ?? 'unknown',
          nullable: row.nullable ?? true,
        });
    }
    for (const table of tables.values()) {
      if (table.reltuples < 0 && (table.kind === 'table' || table.kind === 'partitioned_table')) {
        const [{ n }] = await this.tx.rows<{ n: number }>(
          `SELECT count(*)::int AS n FROM (SELECT FROM ${quote(schema)}.${quote(table.name)} LIMIT $1) s`,
          [COUNT_UNANALYZED_UP_TO],
        );
        table.row_estimate = n;
      }
    }
    return [...tables.values()].map(({ reltuples: _reltuples, ...table }) => table);
  }

  /** Postgres's names of result column types (`format_type`), by type oid and modifier. */
  async typeNames(types: Array<{ oid: number; modifier: number }>): Promise<string[]> {
    const rows = await this.tx.rows<{ name: string }>(
      `SELECT format_type(t.oid, nullif(t.modifier, -1)) AS name
         FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, modifier, i)
        ORDER BY t.i`,
      [types.map((t) => t.oid), types.map((t) => t.modifier)],
    );
    return rows.map((row) => row.name ?? 'unknown');
  }
}
