import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { Transactions } from '../../../core/database/transaction';
import type { RunEntity } from './entities/run.entity';
import { StepRunEntity, type StepStatus } from './entities/step-run.entity';
import { RUN_JSON, toRun, toStep } from './run-rows';

/** A step's new state, as a transition leaves it (unset fields keep their value). */
export interface StepChange {
  status: StepStatus;
  attempt?: number;
  output?: unknown;
  error?: string | null;
  not_before?: Date | null;
  child_key?: string | null;
  /** started_at (or finished_at) becomes now. */
  started?: boolean;
  finished?: boolean;
}

/** A step row to insert. */
export interface NewStepRow extends StepChange {
  id: string;
  run_id: string;
  tenant_id: string;
  step_id: string;
  type: string;
  /** A step claimed as it is inserted (sticky execution): the job it runs under. */
  carried_by?: string;
}

/** A run event the engine decided on; written with the run's other changes in one statement. */
export interface NewRunEvent {
  seq: number;
  event_type: string;
  step_id: string | null;
  data: Record<string, unknown>;
  timestamp: Date;
}

export type RunChanges = Partial<
  Pick<RunEntity, 'status' | 'error' | 'started_at' | 'completed_at' | 'held'>
>;

/** What a unit of work writes about one run. */
export interface RunSave {
  changes: RunChanges;
  events: NewRunEvent[];
  steps: NewStepRow[];
  /** Transitions of existing step rows, by row id. */
  transitions: Array<StepChange & { id: string }>;
}

/**
 * saveRun()'s one statement; with `ifSeq`, each of its parts only if the run's next_seq is `ifSeq`, answering a
 * row (whether the run's tenant has held runs) only when they were written.
 */
function saveRunSql(runId: string, save: RunSave, ifSeq?: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [runId];
  const sets = ['updated_at = now()'];
  for (const [column, value] of Object.entries(save.changes)) {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  }
  if (save.events.length > 0) {
    params.push(save.events.at(-1)?.seq);
    sets.push(`next_seq = $${params.length}`);
  }
  let runWhere = 'id = $1';
  if (ifSeq !== undefined) {
    params.push(ifSeq);
    runWhere += ` AND next_seq = $${params.length} RETURNING tenant_id`;
  }
  const written = ifSeq === undefined ? '' : 'EXISTS (SELECT 1 FROM run)';
  const where = written && ` WHERE ${written}`;
  const parts = [`run AS (UPDATE runs SET ${sets.join(', ')} WHERE ${runWhere})`];
  if (save.steps.length > 0) {
    parts.push(`steps AS (${insertStepsSql(params.length + 1)}${where})`);
    params.push(...stepParams(save.steps));
  }
  if (save.transitions.length > 0) {
    const [only] = save.transitions;
    params.push(JSON.stringify(save.transitions.length === 1 ? only : save.transitions));
    const sql = updateStepsSql('$1', params.length, save.transitions.length === 1);
    parts.push(`moved AS (${sql}${written && ` AND ${written}`})`);
  }
  if (save.events.length > 0) {
    parts.push(`events AS (${insertEventsSql('$1', params.length + 1)}${where})`);
    params.push(...eventParams(save.events));
  }
  const answer =
    ifSeq === undefined
      ? 'SELECT 1'
      : `SELECT EXISTS (SELECT 1 FROM runs h WHERE h.tenant_id = run.tenant_id AND h.held AND h.status = 'pending')
           AS tenant_has_held FROM run`;
  return { sql: `WITH ${parts.join(', ')} ${answer}`, params };
}

/** A run (locked, or read for a write that checks it: saveRunIf) with its steps, and whether its tenant has held runs. */
export interface RunWithSteps {
  run: RunEntity;
  steps: StepRunEntity[];
  tenantHasHeld: boolean;
}

interface RunWithStepsRow {
  run: RunEntity;
  steps: StepRunEntity[];
  tenant_has_held: boolean;
}

/**
 * The run's row lock, and its steps read after the lock is granted, on a snapshot of their own (engine_lock_run()
 * is plpgsql): under READ COMMITTED that sees the steps committed by whoever held the lock before us. A subquery of
 * the locking statement would not (its snapshot is taken before the wait; only the locked row is re-read), and two
 * last steps completing at once would each see the other still running: the run would never finish.
 * `tenant_has_held`: whether the run's tenant has runs held for a slot (a top-level run's end admits them).
 */
const lockRunSql = (id: string) => `SELECT run, steps, tenant_has_held FROM engine_lock_run(${id})`;

/** A run and its steps as JSON (to_jsonb() rows, or a job's `known`: dates are strings) made entities again. */
export const runWithStepsOf = (known: { run: object; steps: object[] }): RunWithSteps => ({
  run: toRun(known.run as RunEntity),
  steps: (known.steps as StepRunEntity[]).map(toStep),
  tenantHasHeld: false,
});

const fromRow = (row: RunWithStepsRow): RunWithSteps => ({
  ...runWithStepsOf(row),
  tenantHasHeld: row.tenant_has_held,
});

/**
 * The engine's own run persistence: runs, their steps and events, written and read by id (a run's lock, its
 * transitions, the reconciler's and retention's sweeps) with no tenant to check. Only the engine's modules may
 * import it (eslint keeps it so); the API path reads runs through `RunReads`, which takes the tenant.
 */
@Injectable()
export class RunStore {
  constructor(private readonly tx: Transactions) {}

  /** Every statement here is run over and over from a fixed set of texts: prepared once per connection. */
  private rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.tx.rows<T>(sql, params, { prepare: true });
  }

  async findRunByKey(tenantId: string, key: string): Promise<RunEntity | undefined> {
    const [row] = await this.rows<{ run: RunEntity }>(
      `SELECT ${RUN_JSON} AS run FROM runs r WHERE r.tenant_id = $1 AND r.idempotency_key = $2`,
      [tenantId, key],
    );
    return row ? toRun(row.run) : undefined;
  }

  async findRunForEngine(id: string): Promise<RunEntity | undefined> {
    const [row] = await this.rows<{ run: RunEntity }>(
      `SELECT ${RUN_JSON} AS run FROM runs r WHERE r.id = $1`,
      [id],
    );
    return row ? toRun(row.run) : undefined;
  }

  async lockRunForEngine(id: string): Promise<RunWithSteps | undefined> {
    const [row] = await this.rows<RunWithStepsRow>(lockRunSql('$1'), [id]);
    return row && fromRow(row);
  }

  /**
   * The run and its steps as they stand, without its lock (one statement: one snapshot, and the engine writes a
   * run's row and its steps together), for a unit of work whose write checks nothing came in between
   * (saveRunIf).
   */
  async readRunForEngine(id: string): Promise<RunWithSteps | undefined> {
    const [row] = await this.rows<RunWithStepsRow>(
      `SELECT to_jsonb(r) AS run, false AS tenant_has_held,
              COALESCE((SELECT jsonb_agg(to_jsonb(s)) FROM step_runs s WHERE s.run_id = r.id), '[]'::jsonb) AS steps
         FROM runs r WHERE r.id = $1`,
      [id],
    );
    return row && fromRow(row);
  }

  /**
   * `work` in a transaction whose first statement, sent with its BEGIN, is lockRunForEngine(id): one round trip
   * for both. `work` gets the locked run, undefined when there is none.
   */
  inRunLock<T>(id: string, work: (locked: RunWithSteps | undefined) => Promise<T>): Promise<T> {
    // The simple protocol takes no parameters: the id goes in the text, so it must be a uuid and nothing else.
    if (!isUUID(id)) return this.tx.run(() => work(undefined));
    return this.tx.runOpening<RunWithStepsRow, T>(lockRunSql(`'${id}'::uuid`), ([row]) =>
      work(row && fromRow(row)),
    );
  }

  /**
   * The tenant's `concurrent_runs` (null: no limit) and, when it has one, the tenant's run-slot lock until the
   * transaction ends: whatever counts the tenant's slots (a start, a retry, an admission) takes turns, so none
   * over-admits.
   */
  async lockRunSlots(tenantId: string): Promise<number | null> {
    const [row] = await this.rows<{ limit: number | null }>(
      `SELECT p.concurrent_runs AS "limit",
              CASE WHEN p.concurrent_runs IS NOT NULL
                   THEN pg_advisory_xact_lock(hashtextextended('conflux:run-slots:' || t.id, 0))::text END AS locked
         FROM tenants t JOIN plans p ON p.code = t.plan_code WHERE t.id = $1`,
      [tenantId],
    );
    return row?.limit ?? null;
  }

  /** The tenant's oldest held runs, at most `limit`, locked (ones another transaction holds are skipped). */
  async lockHeldRuns(tenantId: string, limit: number, excluding: string[]): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      `SELECT id FROM runs WHERE tenant_id = $1 AND held AND status = 'pending' AND id <> ALL($3::uuid[])
        ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, limit, excluding],
    );
    return rows.map((r) => r.id);
  }

  /** Tenants with held runs, for the reconciler (a raised limit, or slots a crash left unclaimed). */
  async tenantsWithHeldRuns(): Promise<string[]> {
    const rows = await this.rows<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM runs WHERE held AND status = 'pending'`,
    );
    return rows.map((r) => r.tenant_id);
  }

  /**
   * Under the run's lock: the run's changes, its new step rows, its steps' transitions (by row id) and its new
   * events in one statement. `next_seq` becomes the last event's seq, so seqs stay gap-free.
   */
  async saveRun(runId: string, save: RunSave): Promise<void> {
    const { sql, params } = saveRunSql(runId, save);
    await this.rows(sql, params);
  }

  /**
   * saveRun() without the run's lock, if the run's next_seq is still `seq` (no other transition wrote it since:
   * each one writes events): everything or nothing is written. Undefined when nothing was; otherwise whether the
   * run's tenant has runs held for a slot.
   */
  async saveRunIf(
    seq: number,
    runId: string,
    save: RunSave,
  ): Promise<{ tenantHasHeld: boolean } | undefined> {
    const { sql, params } = saveRunSql(runId, save, seq);
    const [row] = await this.rows<{ tenant_has_held: boolean }>(sql, params);
    return row && { tenantHasHeld: row.tenant_has_held };
  }

  /**
   * A new run, with the steps and events it starts with, in one statement (so it needs no transaction around
   * it); false, nothing written, when its idempotency key is taken (after waiting for a racing insert) or, with
   * `uncappedOnly`, when its tenant's plan has a concurrent-runs cap. Its created_at and updated_at are the
   * database's clock, as for every other row.
   */
  async insertRun(
    run: RunEntity,
    steps: NewStepRow[],
    events: NewRunEvent[],
    /** `inputJson`: the run's input as JSON, when the caller has it already. */
    { uncappedOnly = false, inputJson = JSON.stringify(run.input ?? null) } = {},
  ): Promise<boolean> {
    const params = [
      run.id,
      run.tenant_id,
      run.workflow_id,
      run.workflow_version,
      run.status,
      run.trigger_type,
      inputJson,
      run.request_id,
      run.next_seq,
      run.idempotency_key,
      run.held,
      run.parent_run_id,
      run.parent_step_id,
      uncappedOnly,
    ];
    const stepsAt = params.length + 1;
    const eventsAt = stepsAt + STEP_ARRAYS;
    const [row] = await this.rows<{ created_at: string | Date }>(
      `WITH run AS (
         INSERT INTO runs (id, tenant_id, workflow_id, workflow_version, status, trigger_type, input, context, request_id, next_seq, created_at, updated_at, idempotency_key, held, parent_run_id, parent_step_id)
         SELECT $1::uuid, $2, $3::uuid, $4::int, $5, $6, $7::jsonb, jsonb_build_object('input', $7::jsonb, 'steps', '{}'::jsonb),
                $8, $9::int, now(), now(), $10, $11::boolean, $12::uuid, $13
          WHERE NOT $14::boolean
             OR EXISTS (SELECT 1 FROM tenants t JOIN plans p ON p.code = t.plan_code WHERE t.id = $2 AND p.concurrent_runs IS NULL)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id, created_at),
       steps AS (${insertStepsSql(stepsAt)} WHERE EXISTS (SELECT 1 FROM run)),
       events AS (${insertEventsSql('$1::uuid', eventsAt)} WHERE EXISTS (SELECT 1 FROM run))
       SELECT created_at FROM run`,
      [...params, ...stepParams(steps), ...eventParams(events)],
    );
    if (!row) return false;
    run.created_at = run.updated_at = new Date(row.created_at);
    return true;
  }

  async findStep(runId: string, stepId: string): Promise<StepRunEntity | undefined> {
    const [row] = await this.rows<StepRunEntity>(
      'SELECT * FROM step_runs WHERE run_id = $1 AND step_id = $2',
      [runId, stepId],
    );
    return row ? Object.assign(new StepRunEntity(), row) : undefined;
  }

  /**
   * One page of the work the reconciler checks, in (updated_at, id) order after `after`: steps that have not
   * moved for `olderThanMs` and are not waiting healthily. Excluded: queued steps whose `not_before` is still
   * ahead (a delay, a backoff), and waits with nothing to check (an approval without a deadline, a child still
   * running). Included waits: a deadline past due (its timer job may be lost), a child that ended (its result
   * may be lost) or is missing (its creation may be lost); `child_status` says which.
   */
  async stalledStepsForEngine(
    olderThanMs: number,
    limit: number,
    after?: { updated_at: Date; id: string },
  ): Promise<Array<StepRunEntity & { child_status: string | null }>> {
    const rows = await this.rows<StepRunEntity & { child_status: string | null }>(
      `SELECT s.*, c.status AS child_status
         FROM step_runs s
         LEFT JOIN runs c ON s.child_key IS NOT NULL AND c.tenant_id = s.tenant_id AND c.idempotency_key = s.child_key
        WHERE s.status IN ('queued', 'running', 'waiting')
          AND s.updated_at < now() - $1 * interval '1 millisecond'
          AND ($3::timestamptz IS NULL OR (s.updated_at, s.id) > ($3, $4::uuid))
          AND CASE
                WHEN s.status = 'queued' THEN s.not_before IS NULL OR s.not_before < now() - $1 * interval '1 millisecond'
                WHEN s.status = 'running' THEN true
                WHEN s.child_key IS NOT NULL THEN c.id IS NULL OR c.status IN ('completed', 'failed', 'cancelled')
                ELSE s.not_before IS NOT NULL AND s.not_before < now() - $1 * interval '1 millisecond'
              END
        ORDER BY s.updated_at, s.id
        LIMIT $2`,
      [olderThanMs, limit, after?.updated_at ?? null, after?.id ?? null],
    );
    return rows.map((row) => Object.assign(new StepRunEntity(), row));
  }

  async childRunByKeyForEngine(tenantId: string, key: string): Promise<RunEntity | undefined> {
    const [row] = await this.rows<{ id: string }>(
      'SELECT id FROM runs WHERE tenant_id = $1 AND idempotency_key = $2',
      [tenantId, key],
    );
    return row ? this.findRunForEngine(row.id) : undefined;
  }

  async activeChildrenForEngine(parentRunId: string): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      `SELECT id FROM runs WHERE parent_run_id = $1 AND status IN ('pending', 'running', 'paused')`,
      [parentRunId],
    );
    return rows.map((row) => row.id);
  }

  /** Deletes up to `limit` runs that ended before `before`, with their steps and events (no foreign key does). */
  async deleteFinishedRunsForEngine(before: Date, limit: number): Promise<number> {
    const [row] = await this.rows<{ deleted: number }>(
      `WITH gone AS (
         DELETE FROM runs WHERE id IN (
           SELECT id FROM runs WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < $1
            ORDER BY completed_at LIMIT $2)
         RETURNING id),
       steps AS (DELETE FROM step_runs WHERE run_id IN (SELECT id FROM gone)),
       events AS (DELETE FROM run_events WHERE run_id IN (SELECT id FROM gone))
       SELECT count(*)::int AS deleted FROM gone`,
      [before, limit],
    );
    return row.deleted;
  }
}

const STEP_ARRAYS = 14;

/** The insert of new step rows, its STEP_ARRAYS arrays numbered from $first (stepParams gives them). */
function insertStepsSql(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO step_runs (id, run_id, tenant_id, step_id, type, status, attempt, not_before, output, error, child_key, carried_by, started_at, finished_at)
       SELECT id, run_id, tenant_id, step_id, type, status, attempt, not_before, output, error, child_key, carried_by,
              CASE WHEN started THEN now() END, CASE WHEN finished THEN now() END
         FROM unnest(${p(0)}::uuid[], ${p(1)}::uuid[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::int[], ${p(7)}::timestamptz[], ${p(8)}::jsonb[], ${p(9)}::text[], ${p(10)}::text[], ${p(11)}::text[], ${p(12)}::bool[], ${p(13)}::bool[])
           AS t(id, run_id, tenant_id, step_id, type, status, attempt, not_before, output, error, child_key, carried_by, started, finished)`;
}

function stepParams(rows: NewStepRow[]): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.run_id),
    rows.map((r) => r.tenant_id),
    rows.map((r) => r.step_id),
    rows.map((r) => r.type),
    rows.map((r) => r.status),
    rows.map((r) => r.attempt ?? 1),
    rows.map((r) => r.not_before ?? null),
    rows.map((r) => (r.output === undefined ? null : JSON.stringify(r.output))),
    rows.map((r) => r.error ?? null),
    rows.map((r) => r.child_key ?? null),
    rows.map((r) => r.carried_by ?? null),
    rows.map((r) => r.started ?? false),
    rows.map((r) => r.finished ?? false),
  ];
}

/**
 * The update of existing step rows of run `runId` from $param, a JSON array of `StepChange & {id}`, or (`single`)
 * one change as a JSON object: a field left out keeps its value. One change, the usual transition, needs no join
 * (joined to a set-returning function, the planner builds a hash table in every statement). The run's id bounds
 * the rows looked at: a set-returning function's rows are unknown to the planner, which would otherwise scan the
 * table. A sticky claim's job (carried_by) is the claim's alone: whatever the step does next, its own job delivers it.
 */
function updateStepsSql(runId: string, param: number, single: boolean): string {
  const c = single ? `$${param}::jsonb` : 'c';
  const keep = (column: string, value: string) =>
    `${column} = CASE WHEN ${c} ? '${column}' THEN ${value} ELSE s.${column} END`;
  return `UPDATE step_runs s SET status = ${c}->>'status', carried_by = NULL, updated_at = now(),
              ${keep('attempt', `(${c}->>'attempt')::int`)}, ${keep('output', `${c}->'output'`)},
              ${keep('error', `${c}->>'error'`)}, ${keep('not_before', `(${c}->>'not_before')::timestamptz`)},
              ${keep('child_key', `${c}->>'child_key'`)},
              started_at = CASE WHEN (${c}->>'started')::boolean THEN now() ELSE s.started_at END,
              finished_at = CASE WHEN (${c}->>'finished')::boolean THEN now() ELSE s.finished_at END
         ${single ? '' : `FROM jsonb_array_elements($${param}::jsonb) c `}WHERE s.run_id = ${runId} AND s.id = (${c}->>'id')::uuid`;
}

/** The insert of a run's new events, its 5 arrays numbered from $first (eventParams gives them). */
function insertEventsSql(runId: string, first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO run_events (run_id, seq, event_type, step_id, data, "timestamp")
       SELECT ${runId}, * FROM unnest(${p(0)}::int[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::jsonb[], ${p(4)}::timestamptz[])`;
}

function eventParams(events: NewRunEvent[]): unknown[] {
  return [
    events.map((e) => e.seq),
    events.map((e) => e.event_type),
    events.map((e) => e.step_id),
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => e.timestamp),
  ];
}
