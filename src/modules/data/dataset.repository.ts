import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';

export const DATASET_TABLES = ['tenant_pipeline_runs', 'tenant_step_logs', 'tenant_dq_results'] as const;

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * Postgres roles are cluster-wide while schemas live in one database, so role names carry a short hash of
 * the database name: two Conflux databases on one server (or two test databases) never share a role.
 */
export function datasetRolePrefix(databaseName: string): string {
  return `t${createHash('sha256').update(databaseName).digest('hex').slice(0, 8)}_`;
}

/**
 * A tenant's dataset: its own schema, holding its data tables, and a login-less role that can read that
 * schema and nothing else. Conflux writes as itself and reads tenant SQL through the role (`SET LOCAL ROLE`).
 */
@Injectable()
export class DatasetRepository {
  private rolePrefix?: string;

  constructor(private readonly tx: Transactions) {}

  schemaName(tenantId: string): string {
    return `tenant_${tenantId}`;
  }

  async roleName(tenantId: string): Promise<string> {
    if (!this.rolePrefix) {
      const [{ db }] = await this.tx
        .manager()
        .query<Array<{ db: string }>>('SELECT current_database() AS db');
      this.rolePrefix = datasetRolePrefix(db);
    }
    return `${this.rolePrefix}${tenantId}_ro`;
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
    await q(`CREATE ROLE ${role} NOLOGIN NOINHERIT`);
    // Lets Conflux's own login act as the role (SET ROLE) even when it is not a superuser.
    await q(`GRANT ${role} TO CURRENT_USER`);
    await q(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await q(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await q(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${role}`);
    return [...DATASET_TABLES];
  }

  /**
   * A real round trip: records a dry-run pipeline run with a step log and a data-quality result, then reads
   * them back as the tenant's restricted role. True when the role sees exactly what was written.
   */
  async dryRun(tenantId: string): Promise<boolean> {
    const q = <T = unknown>(sql: string, params: unknown[] = []) => this.tx.manager().query<T>(sql, params);
    const schema = quote(this.schemaName(tenantId));
    const id = randomUUID();
    await q(
      `INSERT INTO ${schema}.tenant_pipeline_runs
         (pipeline_logging_id, pipeline_id, status, trigger_type, trigger_by, end_time, duration_ms)
       VALUES ($1, $2, 'COMPLETE', 'dryrun', 'onboarding', now(), 0)`,
      [id, `${tenantId}-dryrun`],
    );
    await q(
      `INSERT INTO ${schema}.tenant_step_logs (pipeline_logging_id, step_id, status, message, finished_at)
             VALUES ($1, 'dryrun', 'COMPLETE', 'dataset write/read check', now())`,
      [id],
    );
    await q(
      `INSERT INTO ${schema}.tenant_dq_results (pipeline_logging_id, check_name, passed, observed)
             VALUES ($1, 'dataset_round_trip', true, '{"rows": 1}')`,
      [id],
    );
    await q(`SET LOCAL ROLE ${quote(await this.roleName(tenantId))}`);
    try {
      const rows = await q<Array<{ pipeline_id: string; passed: boolean }>>(
        `SELECT r.pipeline_id, s.step_id, d.passed
           FROM ${schema}.tenant_pipeline_runs r
           JOIN ${schema}.tenant_step_logs s USING (pipeline_logging_id)
           JOIN ${schema}.tenant_dq_results d USING (pipeline_logging_id)
          WHERE r.pipeline_logging_id = $1`,
        [id],
      );
      return rows.length === 1 && rows[0].pipeline_id === `${tenantId}-dryrun` && rows[0].passed;
    } finally {
      await q('RESET ROLE');
    }
  }

  /** Pipeline usage for quotas: runs started today (UTC), runs in flight, distinct providers used. */
  async pipelineUsage(tenantId: string): Promise<{ today: number; running: number; providers: number }> {
    const schema = quote(this.schemaName(tenantId));
    const [row] = await this.tx.manager().query<Array<{ today: string; running: string; providers: string }>>(
      `SELECT count(*) FILTER (WHERE start_time >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS today,
              count(*) FILTER (WHERE status IN ('PENDING', 'RUNNING')) AS running,
              count(DISTINCT split_part(pipeline_id, '-', 2)) AS providers
         FROM ${schema}.tenant_pipeline_runs
        WHERE trigger_type <> 'dryrun'`,
    );
    return { today: Number(row.today), running: Number(row.running), providers: Number(row.providers) };
  }
}
