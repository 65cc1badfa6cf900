import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { DatasetRepository } from '../data/dataset.repository';
import { quoteIdent } from '../data/sandbox-settings';
import type { PipelineStatus } from './dto/pipelines.dto';

const QUOTA_LOCK = 7_345_218;

export interface PipelineRunRow {
  pipeline_logging_id: string;
  pipeline_id: string;
  status: PipelineStatus;
  trigger_type: string;
  trigger_by: string | null;
  start_time: Date;
  end_time: Date | null;
  duration_ms: number | null;
  error: string | null;
  details: Record<string, unknown>;
}

/** A tenant's `tenant_pipeline_runs`, in its own data schema: every read and write names the tenant. */
@Injectable()
export class PipelinesRepository {
  constructor(
    private readonly tx: Transactions,
    private readonly datasets: DatasetRepository,
  ) {}

  private table(tenantId: string): string {
    return `${quoteIdent(this.datasets.schemaName(tenantId))}.tenant_pipeline_runs`;
  }

  /** Serialises the tenant's run admissions until the transaction ends: quota checks then see every insert. */
  async lockAdmissions(tenantId: string): Promise<void> {
    await this.tx.rows('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK, tenantId]);
  }

  async insert(
    tenantId: string,
    row: Pick<
      PipelineRunRow,
      'pipeline_logging_id' | 'pipeline_id' | 'trigger_type' | 'trigger_by' | 'details'
    >,
  ): Promise<void> {
    await this.tx.rows(
      `INSERT INTO ${this.table(tenantId)} (pipeline_logging_id, pipeline_id, status, trigger_type, trigger_by, details)
       VALUES ($1, $2, 'PENDING', $3, $4, $5)`,
      [row.pipeline_logging_id, row.pipeline_id, row.trigger_type, row.trigger_by, row.details],
    );
  }

  /**
   * Rows read from the tenant's table; none when the tenant has no data schema (an admin's `?tenantId=` may name
   * a tenant that does not exist).
   */
  private async read(
    tenantId: string,
    sql: (table: string) => string,
    params: unknown[],
  ): Promise<PipelineRunRow[]> {
    try {
      return await this.tx.rows<PipelineRunRow>(sql(this.table(tenantId)), params);
    } catch (error) {
      if (['42P01', '3F000'].includes((error as { code?: string }).code ?? '')) return [];
      throw error;
    }
  }

  async find(tenantId: string, id: string): Promise<PipelineRunRow | undefined> {
    const [row] = await this.read(
      tenantId,
      (table) => `SELECT * FROM ${table} WHERE pipeline_logging_id = $1`,
      [id],
    );
    return row;
  }

  /** Newest first; the onboarding dry run is not a pipeline run. */
  list(
    tenantId: string,
    filter: { pipeline_id?: string; status?: PipelineStatus },
    limit: number,
  ): Promise<PipelineRunRow[]> {
    return this.read(
      tenantId,
      (table) => `SELECT * FROM ${table}
        WHERE trigger_type <> 'dryrun' AND ($1::text IS NULL OR pipeline_id = $1) AND ($2::text IS NULL OR status = $2)
        ORDER BY start_time DESC, pipeline_logging_id
        LIMIT $3`,
      [filter.pipeline_id ?? null, filter.status ?? null, limit],
    );
  }

  /** The run of `pipelineId` that is PENDING or RUNNING, if one is. */
  async inFlight(tenantId: string, pipelineId: string): Promise<PipelineRunRow | undefined> {
    const [row] = await this.tx.rows<PipelineRunRow>(
      `SELECT * FROM ${this.table(tenantId)} WHERE pipeline_id = $1 AND status IN ('PENDING', 'RUNNING') LIMIT 1`,
      [pipelineId],
    );
    return row;
  }

  /** Moves the run on (never back from an end state); the row as it now is, or undefined when it did not move. */
  async setStatus(
    tenantId: string,
    id: string,
    status: PipelineStatus,
    error: string | null,
  ): Promise<PipelineRunRow | undefined> {
    const done = status === 'COMPLETE' || status === 'FAILED';
    const [row] = await this.tx.rows<PipelineRunRow>(
      `UPDATE ${this.table(tenantId)}
          SET status = $2, error = $3,
              end_time = CASE WHEN $4 THEN clock_timestamp() END,
              duration_ms = CASE WHEN $4 THEN (extract(epoch FROM clock_timestamp() - start_time) * 1000)::integer END
        WHERE pipeline_logging_id = $1 AND status <> $2
        RETURNING *`,
      [id, status, error, done],
    );
    return row;
  }
}
