import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Transactions } from '../../core/database/transaction';
import { RunEventEntity } from './entities/run-event.entity';
import { RunEntity, type RunStatus } from './entities/run.entity';
import { StepRunEntity, type StepStatus } from './entities/step-run.entity';

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
  tenant_id: string;
  pending: number;
  running: number;
  paused: number;
  started: number;
  finished: number;
  steps_queued: number;
  steps_running: number;
}

const RUN_DATES = ['started_at', 'completed_at', 'created_at', 'updated_at'];
const STEP_DATES = ['not_before', 'started_at', 'finished_at', 'updated_at'];

/** A row read as `to_jsonb(...)` has its timestamps as strings: make them Dates again. */
function withDates<T extends object>(row: T, keys: string[]): T {
  for (const key of keys) {
    const value = (row as Record<string, unknown>)[key];
    if (typeof value === 'string') (row as Record<string, unknown>)[key] = new Date(value);
  }
  return row;
}

/**
 * Runs, their steps and events. Tenant reads take the tenant id; `*ForEngine` methods are the engine's own, and
 * `*ForRealtime` the socket handshake's (which must tell an unknown run from another tenant's).
 */
@Injectable()
export class RunsRepository {
  constructor(private readonly tx: Transactions) {}

  private get runs() {
    return this.tx.manager().getRepository(RunEntity);
  }

  private get steps() {
    return this.tx.manager().getRepository(StepRunEntity);
  }

  /** Inserts the run, or returns undefined when (tenant, idempotency_key) is taken (waiting for a racing insert). */
  async insertRun(
    run: Omit<
      RunEntity,
      'id' | 'created_at' | 'updated_at' | 'next_seq' | 'started_at' | 'completed_at' | 'error'
    >,
  ): Promise<RunEntity | undefined> {
    const rows = await this.tx.manager().query<RunEntity[]>(
      `INSERT INTO runs (tenant_id, workflow_id, workflow_version, status, trigger_type, input, context, idempotency_key, parent_run_id, parent_step_id, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        run.tenant_id,
        run.workflow_id,
        run.workflow_version,
        run.status,
        run.trigger_type,
        JSON.stringify(run.input ?? null),
        JSON.stringify(run.context),
        run.idempotency_key,
        run.parent_run_id,
        run.parent_step_id,
        run.request_id,
      ],
    );
    return rows[0] ? this.runs.create(rows[0]) : undefined;
  }

  findRunByKey(tenantId: string, key: string): Promise<RunEntity | null> {
    return this.runs.findOne({ where: { tenant_id: tenantId, idempotency_key: key } });
  }

  findRunForEngine(id: string): Promise<RunEntity | null> {
    return this.runs.findOne({ where: { id } });
  }

  findRun(tenantId: string, id: string): Promise<RunEntity | null> {
    return this.runs.findOne({ where: { tenant_id: tenantId, id } });
  }

  /** The run, locked until the transaction ends: every transition of a run and its steps happens under it. */
  async lockRunForEngine(id: string): Promise<RunEntity | undefined> {
    return (
      (await this.runs
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .where('r.id = :id', { id })
        .getOne()) ?? undefined
    );
  }

  async updateRun(
    id: string,
    changes: Partial<Pick<RunEntity, 'status' | 'context' | 'error' | 'started_at' | 'completed_at'>>,
  ): Promise<void> {
    await this.runs.update({ id }, changes as Record<string, unknown>);
  }

  listRuns(
    tenantId: string,
    filter: RunFilter,
    offset: number,
    limit: number,
  ): Promise<[RunEntity[], number]> {
    const query = this.runs.createQueryBuilder('r').where('r.tenant_id = :tenantId', { tenantId });
    if (filter.workflow_id) query.andWhere('r.workflow_id = :workflowId', { workflowId: filter.workflow_id });
    if (filter.status) query.andWhere('r.status = :status', { status: filter.status });
    if (filter.since) query.andWhere('r.created_at >= :since', { since: filter.since });
    if (filter.until) query.andWhere('r.created_at < :until', { until: filter.until });
    return query.orderBy('r.created_at', 'DESC').skip(offset).take(limit).getManyAndCount();
  }

  /** Appends an event under the run's lock: `seq` is the run's counter plus one, so gap-free. One round trip. */
  async appendEvent(
    runId: string,
    eventType: string,
    stepId: string | null,
    data: Record<string, unknown>,
  ): Promise<RunEventEntity> {
    const [row] = await this.tx.rows<{ seq: number; timestamp: Date }>(
      `WITH next AS (UPDATE runs SET next_seq = next_seq + 1, updated_at = now() WHERE id = $1 RETURNING next_seq)
       INSERT INTO run_events (run_id, seq, event_type, step_id, data, "timestamp")
       SELECT $1, next_seq, $2, $3, $4, now() FROM next
       RETURNING seq, "timestamp"`,
      [runId, eventType, stepId, JSON.stringify(data)],
    );
    return Object.assign(new RunEventEntity(), {
      run_id: runId,
      seq: row.seq,
      event_type: eventType,
      step_id: stepId,
      data,
      timestamp: row.timestamp,
    });
  }

  /** The run locked (as `lockRunForEngine`) and one of its steps, in one round trip. */
  async lockRunWithStepForEngine(
    runId: string,
    stepId: string,
  ): Promise<{ run?: RunEntity; step?: StepRunEntity }> {
    const rows = await this.tx.rows<{ run: RunEntity; step: StepRunEntity | null }>(
      `SELECT to_jsonb(r) AS run, to_jsonb(s) AS step
         FROM runs r LEFT JOIN step_runs s ON s.run_id = r.id AND s.step_id = $2
        WHERE r.id = $1
          FOR UPDATE OF r`,
      [runId, stepId],
    );
    if (!rows[0]) return {};
    const run = withDates(Object.assign(new RunEntity(), rows[0].run), RUN_DATES);
    const step = rows[0].step
      ? withDates(Object.assign(new StepRunEntity(), rows[0].step), STEP_DATES)
      : undefined;
    return { run, step };
  }

  /**
   * One statement, so one MVCC snapshot: every event up to `last_seq` is reflected in the run and its steps, and
   * none after it (events, step changes and `next_seq` commit together).
   */
  async snapshot(tenantId: string, runId: string): Promise<RunSnapshotRow | undefined> {
    const [row] = await this.tx.rows<{ run: RunEntity; step_statuses: Record<string, StepStatus> }>(
      `SELECT to_jsonb(r) AS run,
              COALESCE((SELECT jsonb_object_agg(s.step_id, s.status) FROM step_runs s WHERE s.run_id = r.id), '{}')
                AS step_statuses
         FROM runs r
        WHERE r.id = $1 AND r.tenant_id = $2`,
      [runId, tenantId],
    );
    if (!row) return undefined;
    const run = withDates(Object.assign(new RunEntity(), row.run), RUN_DATES);
    return { run, step_statuses: row.step_statuses, last_seq: run.next_seq };
  }

  async tenantOfForRealtime(id: string): Promise<string | undefined> {
    return (await this.runs.findOne({ where: { id }, select: { tenant_id: true } }))?.tenant_id;
  }

  /** Per tenant: open runs and steps now, runs started and finished in the last `windowSeconds`. */
  activity(tenantIds: string[], windowSeconds: number): Promise<RunActivity[]> {
    return this.tx.rows<RunActivity>(
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

  events(runId: string, afterSeq: number, limit: number): Promise<RunEventEntity[]> {
    return this.tx
      .manager()
      .getRepository(RunEventEntity)
      .createQueryBuilder('e')
      .where('e.run_id = :runId AND e.seq > :afterSeq', { runId, afterSeq })
      .orderBy('e.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  stepsOf(runId: string): Promise<StepRunEntity[]> {
    return this.steps.find({
      where: { run_id: runId },
      order: { started_at: { direction: 'ASC', nulls: 'LAST' }, step_id: 'ASC' },
    });
  }

  findStep(runId: string, stepId: string): Promise<StepRunEntity | null> {
    return this.steps.findOne({ where: { run_id: runId, step_id: stepId } });
  }

  /** New step rows; a step that already has a row keeps it (a re-decided successor is not queued twice). */
  async insertSteps(
    rows: Array<{
      run_id: string;
      tenant_id: string;
      step_id: string;
      type: string;
      status: StepStatus;
      not_before?: Date | null;
      output?: unknown;
    }>,
  ): Promise<string[]> {
    if (rows.length === 0) return [];
    const values: unknown[] = [];
    const tuples = rows.map((row, i) => {
      values.push(
        row.run_id,
        row.tenant_id,
        row.step_id,
        row.type,
        row.status,
        row.not_before ?? null,
        row.output === undefined ? null : JSON.stringify(row.output),
      );
      const b = i * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}::jsonb, CASE WHEN $${b + 5} IN ('completed', 'skipped') THEN now() END)`;
    });
    const inserted = await this.tx.manager().query<Array<{ step_id: string }>>(
      `INSERT INTO step_runs (run_id, tenant_id, step_id, type, status, not_before, output, finished_at)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (run_id, step_id) DO NOTHING
       RETURNING step_id`,
      values,
    );
    return inserted.map((row) => row.step_id);
  }

  /**
   * Moves a step on only from the statuses given (and the attempt given): the update a duplicate delivery
   * or a racing cancel loses. True when this call made the change.
   */
  async transitionStep(
    id: string,
    from: StepStatus[],
    attempt: number | undefined,
    changes: {
      status: StepStatus;
      attempt?: number;
      output?: unknown;
      error?: string | null;
      not_before?: Date | null;
      started?: boolean;
      finished?: boolean;
    },
  ): Promise<boolean> {
    const sets = ['status = $3', 'updated_at = now()'];
    const params: unknown[] = [id, from, changes.status];
    const add = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (changes.attempt !== undefined) add('attempt', changes.attempt);
    if (changes.output !== undefined) add('output', JSON.stringify(changes.output ?? null), '::jsonb');
    if (changes.error !== undefined) add('error', changes.error);
    if (changes.not_before !== undefined) add('not_before', changes.not_before);
    if (changes.started) sets.push('started_at = now()');
    if (changes.finished) sets.push('finished_at = now()');
    let where = 'id = $1 AND status = ANY($2)';
    if (attempt !== undefined) {
      params.push(attempt);
      where += ` AND attempt = $${params.length}`;
    }
    const rows = await this.tx.rows(
      `UPDATE step_runs SET ${sets.join(', ')} WHERE ${where} RETURNING 1`,
      params,
    );
    return rows.length > 0;
  }

  async setStepsStatus(runId: string, from: StepStatus[], status: StepStatus): Promise<StepRunEntity[]> {
    const result = await this.steps
      .createQueryBuilder()
      .update()
      .set({ status, finished_at: () => 'now()' })
      .where('run_id = :runId AND status IN (:...from)', { runId, from })
      .returning('*')
      .execute();
    return result.raw as StepRunEntity[];
  }

  async deleteSteps(runId: string, statuses: StepStatus[]): Promise<void> {
    await this.steps.delete({ run_id: runId, status: In(statuses) });
  }

  /** Work the reconciler checks: steps that should have a job and have not moved for a while. */
  stalledStepsForEngine(olderThanMs: number, limit: number): Promise<StepRunEntity[]> {
    return this.steps
      .createQueryBuilder('s')
      .where(
        `s.status IN ('queued', 'running', 'waiting') AND s.updated_at < now() - :age * interval '1 millisecond'`,
        { age: olderThanMs },
      )
      .orderBy('s.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  childRunForEngine(parentRunId: string, parentStepId: string): Promise<RunEntity | null> {
    return this.runs.findOne({
      where: { parent_run_id: parentRunId, parent_step_id: parentStepId },
      order: { created_at: 'DESC' },
    });
  }

  activeChildrenForEngine(parentRunId: string): Promise<RunEntity[]> {
    return this.runs.find({
      where: { parent_run_id: parentRunId, status: In(['pending', 'running', 'paused']) },
    });
  }
}
