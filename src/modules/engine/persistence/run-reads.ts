import { Injectable } from '@nestjs/common';
import { Transactions } from '../../../core/database/transaction';
import { type TenantId, vouchedTenant } from '../../../core/tenancy/tenant-id';
import { RunEventEntity } from './entities/run-event.entity';
import { RunEntity, type RunStatus } from './entities/run.entity';
import { StepRunEntity, type StepStatus } from './entities/step-run.entity';
import { RUN_JSON, toRun } from './run-rows';

export interface RunFilter {
  workflow_id?: string;
  status?: RunStatus;
  since?: Date;
  until?: Date;
}

/** A run as it stands, its steps' statuses and the seq of its last event, all read at one instant. */
export interface RunSnapshotRow {
  run: RunEntity;
  step_statuses: Record<string, StepStatus>;
  last_seq: number;
}

/** A tenant's run activity: what is open now, and what started and finished within the window. */
export interface RunActivity {
  tenant_id: TenantId;
  pending: number;
  running: number;
  paused: number;
  started: number;
  finished: number;
  steps_queued: number;
  steps_running: number;
}

/**
 * Runs as the API path reads them: every read takes the tenant (`TenantId`, which only an authenticated request's
 * scope or a row's recorded owner produces) and finds nothing of another tenant's. `ownerOf` is the one read by
 * id alone, for a socket handshake that must tell 'no such run' from 'not yours'.
 */
@Injectable()
export class RunReads {
  constructor(private readonly tx: Transactions) {}

  /** Every statement here is run over and over from a fixed set of texts: prepared once per connection. */
  private rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.tx.rows<T>(sql, params, { prepare: true });
  }

  async findRun(tenantId: TenantId, id: string): Promise<RunEntity | undefined> {
    const [row] = await this.rows<{ run: RunEntity }>(
      `SELECT ${RUN_JSON} AS run FROM runs r WHERE r.id = $1 AND r.tenant_id = $2`,
      [id, tenantId],
    );
    return row ? toRun(row.run) : undefined;
  }

  /** The tenant's open top-level runs that hold a slot, leaving out `excluding` (runs this transaction ends). */
  async openRootRuns(tenantId: TenantId, excluding: string[]): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs
        WHERE tenant_id = $1 AND status IN ('pending', 'running', 'paused') AND parent_run_id IS NULL AND NOT held
          AND id <> ALL($2::uuid[])`,
      [tenantId, excluding],
    );
    return row.n;
  }

  async listRuns(
    tenantId: TenantId,
    filter: RunFilter,
    offset: number,
    limit: number,
  ): Promise<[RunEntity[], number]> {
    const params: unknown[] = [tenantId];
    const where = ['r.tenant_id = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.workflow_id) add('r.workflow_id = ?', filter.workflow_id);
    if (filter.status) add('r.status = ?', filter.status);
    if (filter.since) add('r.created_at >= ?', filter.since);
    if (filter.until) add('r.created_at < ?', filter.until);
    params.push(limit, offset);
    const rows = await this.rows<{ run: RunEntity; total: number }>(
      `SELECT ${RUN_JSON} AS run, count(*) OVER ()::int AS total
         FROM runs r WHERE ${where.join(' AND ')}
        ORDER BY r.created_at DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    if (rows.length > 0 || offset === 0) return [rows.map((row) => toRun(row.run)), rows[0]?.total ?? 0];
    // A page past the end still reports the total.
    const [count] = await this.rows<{ total: number }>(
      `SELECT count(*)::int AS total FROM runs r WHERE ${where.join(' AND ')}`,
      params.slice(0, -2),
    );
    return [[], count.total];
  }

  /**
   * One statement, so one MVCC snapshot: every event up to `last_seq` is reflected in the run and its steps, and
   * none after it (events, step changes and `next_seq` commit together).
   */
  async snapshot(tenantId: TenantId, runId: string): Promise<RunSnapshotRow | undefined> {
    const [row] = await this.rows<{ run: RunEntity; step_statuses: Record<string, StepStatus> }>(
      `SELECT ${RUN_JSON} AS run,
              COALESCE((SELECT jsonb_object_agg(s.step_id, s.status) FROM step_runs s WHERE s.run_id = r.id), '{}')
                AS step_statuses
         FROM runs r
        WHERE r.id = $1 AND r.tenant_id = $2`,
      [runId, tenantId],
    );
    if (!row) return undefined;
    const run = toRun(row.run);
    return { run, step_statuses: row.step_statuses, last_seq: run.next_seq };
  }

  /** Whose run this is, any tenant's: the owner recorded on the row. */
  async ownerOf(id: string): Promise<TenantId | undefined> {
    const [row] = await this.rows<{ tenant_id: string }>('SELECT tenant_id FROM runs WHERE id = $1', [id]);
    return row ? vouchedTenant(row.tenant_id) : undefined;
  }

  /** Per tenant: open runs and steps now, runs started and finished in the last `windowSeconds`. */
  activity(tenantIds: TenantId[], windowSeconds: number): Promise<RunActivity[]> {
    return this.rows<RunActivity>(
      `WITH r AS (
         SELECT tenant_id,
                count(*) FILTER (WHERE status = 'pending')::int AS pending,
                count(*) FILTER (WHERE status = 'running')::int AS running,
                count(*) FILTER (WHERE status = 'paused')::int AS paused,
                count(*) FILTER (WHERE created_at > now() - make_interval(secs => $2))::int AS started,
                count(*) FILTER (WHERE completed_at > now() - make_interval(secs => $2))::int AS finished
           FROM runs
          WHERE tenant_id = ANY($1)
            AND (status IN ('pending', 'running', 'paused') OR created_at > now() - make_interval(secs => $2)
                 OR completed_at > now() - make_interval(secs => $2))
          GROUP BY tenant_id),
       s AS (
         SELECT tenant_id,
                count(*) FILTER (WHERE status = 'queued')::int AS steps_queued,
                count(*) FILTER (WHERE status = 'running')::int AS steps_running
           FROM step_runs
          WHERE tenant_id = ANY($1) AND status IN ('queued', 'running')
          GROUP BY tenant_id)
       SELECT t.id AS tenant_id,
              COALESCE(r.pending, 0) AS pending, COALESCE(r.running, 0) AS running, COALESCE(r.paused, 0) AS paused,
              COALESCE(r.started, 0) AS started, COALESCE(r.finished, 0) AS finished,
              COALESCE(s.steps_queued, 0) AS steps_queued, COALESCE(s.steps_running, 0) AS steps_running
         FROM unnest($1::text[]) AS t(id)
         LEFT JOIN r ON r.tenant_id = t.id
         LEFT JOIN s ON s.tenant_id = t.id`,
      [tenantIds, windowSeconds],
    );
  }

  async events(
    tenantId: TenantId,
    runId: string,
    afterSeq: number,
    limit: number,
  ): Promise<RunEventEntity[]> {
    const rows = await this.rows<RunEventEntity>(
      `SELECT e.* FROM run_events e JOIN runs r ON r.id = e.run_id AND r.tenant_id = $2
        WHERE e.run_id = $1 AND e.seq > $3 ORDER BY e.seq LIMIT $4`,
      [runId, tenantId, afterSeq, limit],
    );
    return rows.map((row) => Object.assign(new RunEventEntity(), row));
  }

  stepsOf(tenantId: TenantId, runId: string): Promise<StepRunEntity[]> {
    return this.tx
      .manager()
      .getRepository(StepRunEntity)
      .find({
        where: { run_id: runId, tenant_id: tenantId },
        order: { started_at: { direction: 'ASC', nulls: 'LAST' }, step_id: 'ASC' },
      });
  }
}
