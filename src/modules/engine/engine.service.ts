import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { EngineConfig } from '../../core/config/engine.config';
import { Transactions } from '../../core/database/transaction';
import { type DomainEvent, EventPublisher } from '../../core/events/event-publisher';
import { AppException } from '../../core/http/app.exception';
import { currentRequestId } from '../../core/tenancy/request-context';
import { MetricsService } from '../../core/metrics/metrics.service';
import type { JobPayloads } from '../../core/queue/job-catalog';
import { JobQueue } from '../../core/queue/job-queue.service';
import {
  type RunContext,
  type RunEntity,
  type RunStatus,
  TERMINAL_RUN_STATUSES,
} from './persistence/entities/run.entity';
import type { StepRunEntity, StepStatus } from './persistence/entities/step-run.entity';
import { type TenantId, vouchedTenant } from '../../core/tenancy/tenant-id';
import { RunReads } from './persistence/run-reads';
import {
  type RunWithSteps,
  type NewRunEvent,
  type NewStepRow,
  type RunChanges,
  type RunSave,
  RunStore,
  runWithStepsOf,
  type StepChange,
} from './persistence/run-store';
import type { WorkflowEntity } from '../workflows/entities/workflow.entity';
import { WorkflowsService } from '../workflows/workflows.service';
import { STEPS_BY_TYPE } from '../steps/catalog';
import { ExecutorRegistry } from '../steps/executor-registry';
import { PermanentStepError, type StepOutcome } from '../steps/step-executor';
import { ExpressionError, ExpressionEvaluator } from '../steps/expressions';
import { FairShare } from './fair-share';
import { WorkflowGraph } from './graph';
import { RunHooks } from './run-hooks';
import { redactSecrets } from '../../core/redaction/redact';

export class RunConflictException extends AppException {
  constructor(message: string) {
    super('CONFLICT', HttpStatus.CONFLICT, message);
  }
}

interface StepJob {
  tenantId: string;
  runId: string;
  stepId: string;
  attempt: number;
  delayMs: number;
  kind: 'execute' | 'approval-timeout';
  /** A new run's first job: the run and its steps as its start wrote them (see runJob). */
  known?: { run: RunEntity; steps: StepRunEntity[] };
}

/** A new run's first job carries the run and its steps (see runJob) when its input is at most this long, as JSON. */
const KNOWN_INPUT_MAX_CHARS = 8192;

type InlineResult = { id: string; output: unknown } | { id: string; error: Error };

/** A run about to be created (`held` past its plan's concurrent runs); created_at is the database's once written. */
function newRun(params: StartRun, held: boolean): RunEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    tenant_id: params.tenantId,
    workflow_id: params.workflow.id,
    workflow_version: params.workflow.version,
    status: 'pending',
    trigger_type: params.triggerType,
    input: params.input ?? {},
    context: { input: params.input ?? {}, steps: {} },
    idempotency_key: params.idempotencyKey ?? null,
    parent_run_id: params.parent?.runId ?? null,
    parent_step_id: params.parent?.stepId ?? null,
    request_id: params.parent ? params.parent.requestId : (currentRequestId() ?? null),
    held,
    error: null,
    next_seq: 0,
    started_at: null,
    completed_at: null,
    created_at: now,
    updated_at: now,
  };
}

/** What becomes of a round's steps: skipped, queued, or just run inline. */
interface Round {
  skip?: string[];
  queue?: string[];
  ran?: InlineResult[];
}

/** Inline (pure) steps one transaction may run, and for how long, before the rest go out as jobs. */
const INLINE_MAX_STEPS = 32;
const INLINE_MAX_MS = 100;
/**
 * Steps one job may carry on from its own (sticky execution) before the next goes back through the queue, where
 * the tenants' fair share orders it among everyone's work again.
 */
const STICKY_MAX_STEPS = 8;
/** Held runs one admission pass looks at when the tenant has no limit (the reconciler's next pass takes more). */
const ADMIT_PAGE = 500;

/** How long a cancel signal also stops the steps of its run that start after it arrived. */
const ABORT_MEMORY_MS = 10_000;

const OPEN_STEP_STATUSES: StepStatus[] = ['queued', 'running', 'waiting', 'pending'];

/**
 * One run in a unit of work (locked in its transaction, or as a job read it: see transactAfter), with its steps as
 * they stand, and what the unit changes about it: the run row, its steps and its events are written once,
 * together, when the unit ends.
 */
class RunUnit {
  readonly changes: RunChanges = {};
  readonly events: NewRunEvent[] = [];
  /** Step rows made in this unit, written with the run's row (saveRun). */
  readonly newSteps: NewStepRow[] = [];
  /** Transitions of the run's existing step rows, by row id: written with the run's row too. */
  readonly transitions = new Map<string, StepChange & { id: string }>();

  constructor(
    readonly run: RunEntity,
    readonly steps: Map<string, StepRunEntity>,
    /** Whether the run's tenant had runs held for a slot when the run was locked (false when it was only read). */
    readonly tenantHasHeld = false,
  ) {}

  set(changes: RunChanges): void {
    Object.assign(this.changes, changes);
    Object.assign(this.run, changes);
  }

  /**
   * A step's transition: false, nothing changed, when it is not in one of `from` (at `attempt`, when given) any
   * more. Checked against the steps as this unit holds them: read with the run's lock and changed only here (the
   * engine writes a step only under its run's lock), so this is what a guarded UPDATE would find. Written with
   * the run's row; successive transitions of one step in a unit become one write.
   */
  transition(stepId: string, from: StepStatus[], attempt: number | undefined, change: StepChange): boolean {
    const step = this.steps.get(stepId);
    if (!step || !from.includes(step.status) || (attempt !== undefined && step.attempt !== attempt))
      return false;
    let row: (StepChange & { carried_by?: string }) | undefined =
      this.newSteps.find((r) => r.id === step.id) ?? this.transitions.get(step.id);
    if (!row) {
      const staged = { id: step.id, status: change.status };
      this.transitions.set(step.id, staged);
      row = staged;
    }
    const { started, finished, ...fields } = change;
    Object.assign(row, fields, {
      started: row.started || started,
      finished: row.finished || finished,
      carried_by: undefined,
    });
    const kept = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    Object.assign(step, kept, { carried_by: null });
    return true;
  }

  /** What this unit writes about its run; undefined when it changed nothing. */
  toSave(): RunSave | undefined {
    const { changes, events, newSteps, transitions } = this;
    if (events.length + newSteps.length + transitions.size + Object.keys(changes).length === 0)
      return undefined;
    return { changes, events, steps: newSteps, transitions: [...transitions.values()] };
  }

  /** The run as this unit left it, for a unit of its own once this one is written (see transactAfter). */
  next(): RunUnit {
    const steps = new Map([...this.steps].map(([id, step]) => [id, { ...step }]));
    return new RunUnit({ ...this.run }, steps, this.tenantHasHeld);
  }

  setStep(step: Partial<StepRunEntity> & Pick<StepRunEntity, 'step_id'>): void {
    const existing = this.steps.get(step.step_id);
    this.steps.set(step.step_id, Object.assign(existing ?? ({} as StepRunEntity), step));
  }

  /** The expression context: the run's input and each step's status and (once completed) output. */
  context(): RunContext {
    const steps: RunContext['steps'] = {};
    for (const [id, step] of this.steps)
      steps[id] =
        step.status === 'completed' ? { status: step.status, output: step.output } : { status: step.status };
    return { input: this.run.input, steps };
  }
}

/** A unit of work without the run's lock (see transactAfter) needs a statement: it is done again, under the lock. */
class NeedsLock extends Error {}

/** What a transaction decided that must happen after it commits: jobs to enqueue, events to publish. */
class Effects {
  readonly units = new Map<string, RunUnit>();
  /** Without a transaction: a unit of work that must need no statement but its run's write (see transactAfter). */
  unlocked = false;
  readonly jobs: StepJob[] = [];
  readonly events: DomainEvent[] = [];
  readonly parents: string[] = [];
  readonly aborts: string[] = [];
  /**
   * Sticky execution: the job this transaction may claim a successor for (`carrier`), and the step it claimed
   * (`carried`), which then runs under that job instead of one of its own.
   */
  carrier?: string;
  carried?: string;
  /** Tenants this transaction held a run for: their slots are looked at again once it commits. */
  readonly held = new Set<string>();
  /** Counted after commit, so a rolled-back transition counts nothing. */
  readonly started: Array<{ trigger_type: string; tenant_id: string }> = [];
  readonly finished: Array<{ status: string; tenant_id: string }> = [];
  /** Log lines for operators, written after commit like the metrics. */
  readonly logs: Array<{ level: 'info' | 'warn'; line: Record<string, unknown> }> = [];
}

/** The run events that get a log line of their own: a run's start and end, a step's failure or retry. */
const LOGGED_EVENTS: Record<string, { level: 'info' | 'warn'; msg: string }> = {
  'run.created': { level: 'info', msg: 'run started' },
  'run.completed': { level: 'info', msg: 'run finished' },
  'run.failed': { level: 'warn', msg: 'run finished' },
  'run.cancelled': { level: 'info', msg: 'run finished' },
  'step.retrying': { level: 'warn', msg: 'step failed, retrying' },
  'step.failed': { level: 'warn', msg: 'step failed' },
};

export interface StartRun {
  tenantId: string;
  workflow: WorkflowEntity;
  input: unknown;
  triggerType: string;
  idempotencyKey?: string;
  parent?: { runId: string; stepId: string; requestId: string | null };
}

export const jobIdOf = (job: { runId: string; stepId: string; attempt: number; kind: string }) =>
  `${job.runId}_${job.attempt}_${encodeURIComponent(job.stepId)}${job.kind === 'approval-timeout' ? '_timeout' : ''}`;

/** The deterministic idempotency key of the child run a workflow.call attempt starts. */
export const childKeyOf = (step: { run_id: string; step_id: string; attempt: number }) =>
  `call:${step.run_id}:${step.step_id}:${step.attempt}`;

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * The run state machine. Postgres holds every run's state and BullMQ only delivers work: each transition is
 * written at once (a step's completion, the pure steps that follow it, their events and the successors' rows
 * together), by a job on condition that nothing came in between since it read the run, otherwise in a transaction
 * under the run's row lock, and the jobs for newly queued steps are enqueued once it has committed. A crash between commit and enqueue leaves queued rows without jobs, which the reconciler
 * re-delivers; job ids are deterministic and every transition is conditional on the step's current status and
 * attempt, so a duplicate delivery changes nothing.
 */
@Injectable()
export class EngineService {
  private readonly logger = new Logger('Engine');
  private readonly graphs = new Map<string, WorkflowGraph>();
  /** Abort controllers of steps executing in this process, by run: cancel aborts them. */
  private readonly inFlight = new Map<string, Set<AbortController>>();
  /** Runs whose cancel signal arrived lately, by when. */
  private readonly aborted = new Map<string, number>();
  private readonly fairShare = new FairShare();

  constructor(
    private readonly runs: RunStore,
    private readonly reads: RunReads,
    private readonly workflows: WorkflowsService,
    private readonly executors: ExecutorRegistry,
    private readonly jobs: JobQueue,
    private readonly publisher: EventPublisher,
    private readonly tx: Transactions,
    private readonly config: EngineConfig,
    private readonly metrics: MetricsService,
    private readonly expressions: ExpressionEvaluator,
    private readonly hooks: RunHooks,
  ) {}

  // ---- API side ----------------------------------------------------------------------------------

  /** Creates a run (or finds the one with the same idempotency key) and queues its trigger. */
  async start(params: StartRun): Promise<{ run: RunEntity; created: boolean }> {
    if (!params.parent) {
      const run = await this.startUncapped(params);
      if (run) return { run, created: true };
    }
    return this.transact(async (effects) => {
      if (params.idempotencyKey) {
        const existing = await this.runs.findRunByKey(params.tenantId, params.idempotencyKey);
        if (existing) return { run: existing, created: false };
      }
      // A top-level run past the plan's concurrent runs waits, held, for a slot (sub-workflows use their root's).
      const cap = params.parent ? null : await this.fullCap(params.tenantId);
      const run = newRun(params, cap !== null);
      if (!(await this.runs.insertRun(run, [], []))) {
        // A concurrent start with the same key committed first.
        return {
          run: (await this.runs.findRunByKey(params.tenantId, params.idempotencyKey as string)) as RunEntity,
          created: false,
        };
      }
      this.openRun(effects, run, params.workflow, cap);
      return { run, created: true };
    });
  }

  /**
   * Most starts (a top-level run of a plan without a concurrent-runs cap) in one statement: the run, its trigger
   * step and their events, with no transaction around them. Undefined, nothing written, when the tenant's plan
   * has a cap or the idempotency key is taken (start() then counts the slots, or finds the key's run).
   */
  private async startUncapped(params: StartRun): Promise<RunEntity | undefined> {
    const run = newRun(params, false);
    const effects = new Effects();
    const unit = this.openRun(effects, run, params.workflow, null);
    const inputJson = JSON.stringify(run.input ?? null);
    if (!(await this.runs.insertRun(run, unit.newSteps, unit.events, { uncappedOnly: true, inputJson })))
      return undefined;
    // Its trigger's job need not read what was just written (a stale copy is caught: see transactAfter).
    const [first] = effects.jobs;
    if (first && inputJson.length <= KNOWN_INPUT_MAX_CHARS)
      first.known = { run, steps: [...unit.steps.values()] };
    // Joined to a caller's transaction, what follows the commit waits for that one's.
    if (this.tx.inTransaction()) this.tx.afterCommit(() => this.flush(effects));
    else await this.flush(effects);
    return run;
  }

  /** A run just created: its unit, its run.created event, and its trigger queued (unless it is held, `cap` set). */
  private openRun(effects: Effects, run: RunEntity, workflow: WorkflowEntity, cap: number | null): RunUnit {
    const unit = new RunUnit(run, new Map());
    effects.units.set(run.id, unit);
    const graph = this.graphOf(workflow);
    this.event(effects, unit, 'run.created', null, {
      trigger_type: run.trigger_type,
      workflow_version: run.workflow_version,
      ...(cap !== null ? { held: true, concurrent_runs: cap } : {}),
    });
    effects.started.push({ trigger_type: run.trigger_type, tenant_id: run.tenant_id });
    if (cap !== null) effects.held.add(run.tenant_id);
    else this.insertRound(effects, unit, graph, { queue: [graph.trigger().id] });
    run.context = unit.context();
    return unit;
  }

  /** Completes a waiting step the API may resolve (an approval) with the resume data, and carries on. */
  async resume(tenantId: TenantId, runId: string, stepId: string, data: unknown): Promise<void> {
    const step = await this.runs.findStep(runId, stepId);
    if (!step || step.tenant_id !== tenantId || step.status !== 'waiting' || step.child_key) {
      throw new RunConflictException(`step '${stepId}' is not an approval waiting for input`);
    }
    const done = await this.complete(runId, stepId, step.attempt, ['waiting'], data ?? {});
    if (!done) throw new RunConflictException(`step '${stepId}' is no longer waiting`);
  }

  /** running/paused/pending -> cancelled: nothing new starts, steps in flight are aborted. */
  async cancel(tenantId: TenantId, runId: string): Promise<void> {
    // Aborted before the lock is taken too: a pure step evaluating inline under the lock (a unit done again under
    // it, see transactAfter) holds it while it runs.
    const status = (await this.reads.findRun(tenantId, runId))?.status;
    if (status && !TERMINAL_RUN_STATUSES.includes(status))
      await this.publisher.publishControl({ abort_runs: [runId] });
    await this.transact(async (effects) => {
      const unit = await this.lock(effects, runId);
      if (!unit || unit.run.tenant_id !== tenantId)
        throw new RunConflictException(`run '${runId}' cannot be cancelled`);
      if (TERMINAL_RUN_STATUSES.includes(unit.run.status))
        throw new RunConflictException(`run '${runId}' is already ${unit.run.status}`);
      await this.finishRun(effects, unit, 'cancelled', null);
    }, runId);
  }

  /** Failed runs only: failed (and cancelled) steps run again; completed steps keep their outputs. */
  async retry(tenantId: TenantId, runId: string): Promise<void> {
    await this.transact(async (effects) => {
      const unit = await this.lock(effects, runId);
      if (!unit || unit.run.tenant_id !== tenantId)
        throw new RunConflictException(`run '${runId}' cannot be retried`);
      if (unit.run.status !== 'failed')
        throw new RunConflictException(
          `only failed runs can be retried; run '${runId}' is ${unit.run.status}`,
        );
      // A retried top-level run takes a slot again; at the plan's cap it is refused rather than held (it has steps).
      const cap = unit.run.parent_run_id ? null : await this.fullCap(tenantId);
      if (cap !== null)
        throw new RunConflictException(
          `the plan's ${cap} concurrent runs are all in use; retry run '${runId}' once one of them ends`,
        );
      const again = [...unit.steps.values()].filter((s) => s.status === 'failed' || s.status === 'cancelled');
      unit.set({ status: 'running', error: null, completed_at: null });
      await this.hooks.statusChanged(unit.run, 'running', null);
      this.event(effects, unit, 'run.retried', null, { steps: again.map((s) => s.step_id) });
      const graph = await this.graphOfRun(unit.run);
      for (const step of again) {
        const attempt = step.attempt + 1;
        unit.transition(step.step_id, ['failed', 'cancelled'], undefined, {
          status: 'queued',
          attempt,
          error: null,
          not_before: null,
        });
        this.event(effects, unit, 'step.queued', step.step_id, { attempt });
        effects.jobs.push({
          tenantId: unit.run.tenant_id,
          runId,
          stepId: step.step_id,
          attempt,
          delayMs: this.queueDelay(graph, step.step_id),
          kind: 'execute',
        });
      }
    }, runId);
  }

  // ---- worker side -------------------------------------------------------------------------------

  /**
   * One delivery of an `engine.step` job. Safe to run twice: only the first delivery changes anything. The job
   * reads its run, then a pure step is claimed, run and completed in one unit of work (with the pure steps after
   * it); any other is claimed in one, run outside any, and completed in a second. Each unit's write checks that no
   * other transition came in between (transactAfter). A completion may claim the step's single I/O successor for
   * this same job (sticky execution: no queue hop, no claim, no read), and so on up to STICKY_MAX_STEPS, unless
   * the worker is stopping. A claimed successor is `carried_by` this job: if the worker dies, BullMQ redelivers
   * the job and the delivery runs the step it was carrying.
   */
  async runJob(job: JobPayloads['engine.step'], stopping: () => boolean = () => false): Promise<void> {
    if (job.kind === 'approval-timeout') return this.deadlinePassed(job.run_id, job.step_id, job.attempt);
    const carrier = jobIdOf({ runId: job.run_id, stepId: job.step_id, attempt: job.attempt, kind: job.kind });
    const read = job.known ? runWithStepsOf(job.known) : await this.runs.readRunForEngine(job.run_id);
    if (!read) return;
    let claimed = await this.transactAfter(this.unitOf(read), async (effects) => {
      const unit = await this.lock(effects, job.run_id);
      const step = unit?.steps.get(job.step_id);
      if (!unit || !step || step.attempt !== job.attempt) return undefined;
      if (TERMINAL_RUN_STATUSES.includes(unit.run.status)) return undefined;
      if (step.status !== 'queued' && step.status !== 'running') {
        // This job's own step is done; a redelivery (the worker died) runs the successor it was carrying.
        const carried = [...unit.steps.values()].find(
          (s) => s.status === 'running' && s.carried_by === carrier,
        );
        return carried && this.claimedStep(unit, carried);
      }
      const graph = await this.graphOfRun(unit.run);
      const node = graph.node(step.step_id);
      const inline = this.executors.for(node.type).inline(node.data.config ?? {});
      // 'running' again: the worker that had it died; the job was redelivered. An I/O step's claim commits
      // before it runs; a pure step's is written with its completion (one write: see RunUnit.transition).
      if (step.status === 'queued') {
        unit.transition(step.step_id, ['queued'], step.attempt, {
          status: 'running',
          started: true,
          not_before: null,
        });
        if (unit.run.status === 'pending') {
          unit.set({ status: 'running', started_at: new Date() });
          await this.statusChanged(effects, unit.run, 'running', null);
          this.event(effects, unit, 'run.started', null, {});
        }
        this.event(effects, unit, 'step.started', step.step_id, { attempt: step.attempt });
      }
      if (!inline) return this.claimedStep(unit, step);
      // A pure step's job may carry on into the I/O step after it, as a completed I/O step's does.
      if (!stopping()) effects.carrier = carrier;
      const outcome = await this.attempt(unit.run, step, node, unit.context());
      if ('error' in outcome) await this.failInUnit(effects, unit, step, outcome.error);
      else await this.settleInUnit(effects, unit, step, outcome, ['running']);
      return this.carriedNext(effects, unit, carrier);
    });
    for (let carried = 1; claimed; carried += 1) {
      const { unit: known, run, step, node, context } = claimed;
      const outcome = await this.attempt(run, step, node, context);
      if ('error' in outcome) return this.failAttempt(run.id, step, outcome.error);
      const sticky = carried < STICKY_MAX_STEPS && !stopping();
      try {
        claimed = await this.transactAfter(known, async (effects) => {
          const unit = await this.lock(effects, run.id);
          if (!unit || TERMINAL_RUN_STATUSES.includes(unit.run.status)) return undefined;
          if (sticky) effects.carrier = carrier;
          await this.settleInUnit(effects, unit, step, outcome, ['running']);
          return this.carriedNext(effects, unit, carrier);
        });
      } catch (error) {
        // Nothing of the outcome committed (a child run that could not be created, a lost connection).
        return this.failAttempt(run.id, step, asError(error));
      }
    }
  }

  /** The I/O step this unit of work claimed for `carrier` to run next, if it is still running (not ended since). */
  private async carriedNext(effects: Effects, unit: RunUnit, carrier: string) {
    const next = effects.carried ? unit.steps.get(effects.carried) : undefined;
    // Still running: nothing after the claim (a pure step failing, say) ended the run.
    if (next?.status !== 'running' || next.carried_by !== carrier) return undefined;
    return this.claimedStep(unit, next);
  }

  /** A claimed step this job runs next, with the run as `unit` (just committed) leaves it. */
  private async claimedStep(unit: RunUnit, step: StepRunEntity) {
    const graph = await this.graphOfRun(unit.run);
    return { unit, run: unit.run, step, node: graph.node(step.step_id), context: unit.context() };
  }

  /**
   * Aborts this process's executing steps of a run (the cancel signal every worker receives), and the ones it
   * starts in the next moments: the signal comes before the cancel takes the run's lock, and a transaction
   * running pure steps inline may be between two of them.
   */
  abortRun(runId: string): void {
    const now = Date.now();
    for (const [id, at] of this.aborted) if (now - at > ABORT_MEMORY_MS) this.aborted.delete(id);
    this.aborted.set(runId, now);
    for (const controller of this.inFlight.get(runId) ?? []) controller.abort(new Error('run cancelled'));
  }

  /**
   * Records a step's completion once and decides what follows, in one transaction: successors queued, skipped
   * or run inline, the run completed when nothing is left. False when the step was not in `from` any more.
   */
  async complete(
    runId: string,
    stepId: string,
    attempt: number,
    from: StepStatus[],
    output: unknown,
  ): Promise<boolean> {
    return this.transact(async (effects) => {
      const unit = await this.lock(effects, runId);
      return unit ? this.completeInUnit(effects, unit, stepId, attempt, from, output) : false;
    }, runId);
  }

  /** A child run ended: complete (or fail) the workflow.call step waiting for it. */
  async notifyParent(childRunId: string): Promise<void> {
    const child = await this.runs.findRunForEngine(childRunId);
    if (!child?.parent_run_id || !child.parent_step_id || !TERMINAL_RUN_STATUSES.includes(child.status))
      return;
    const step = await this.runs.findStep(child.parent_run_id, child.parent_step_id);
    if (!step || (step.status !== 'waiting' && step.status !== 'running')) return;
    if (child.status === 'completed') {
      await this.complete(child.parent_run_id, child.parent_step_id, step.attempt, ['waiting', 'running'], {
        run_id: child.id,
        status: child.status,
        context: child.context,
      });
    } else {
      await this.failAttempt(
        child.parent_run_id,
        { ...step, status: 'waiting' },
        new PermanentStepError(`sub-workflow run ${child.id} ${child.status}: ${child.error ?? ''}`),
      );
    }
  }

  /**
   * The reconciler found a step waiting on a child run that does not exist (its creation was lost): start it
   * again from the step's deterministic key, as the step's own attempt would have.
   */
  async restartChild(step: StepRunEntity): Promise<void> {
    const run = await this.runs.findRunForEngine(step.run_id);
    if (!run || TERMINAL_RUN_STATUSES.includes(run.status) || step.status !== 'waiting') return;
    const node = (await this.graphOfRun(run)).node(step.step_id);
    const outcome = await this.attempt(run, step, node, run.context);
    if ('error' in outcome) return this.failAttempt(run.id, step, outcome.error);
    if (outcome.kind !== 'call') return;
    const workflow = await this.workflows.require(run.tenant_id, outcome.workflowId);
    await this.start({
      tenantId: run.tenant_id,
      workflow,
      input: outcome.input,
      triggerType: 'workflow',
      idempotencyKey: childKeyOf(step),
      parent: { runId: run.id, stepId: step.step_id, requestId: run.request_id },
    });
  }

  // ---- transitions -------------------------------------------------------------------------------

  /**
   * Runs one attempt of a step outside any lock: templates rendered, the executor called, under the step's
   * timeout and the run's cancel signal. The outcome, or the error that failed the attempt.
   */
  private async attempt(
    run: RunEntity,
    step: StepRunEntity,
    node: ReturnType<WorkflowGraph['node']>,
    context: RunContext,
  ): Promise<StepOutcome | { error: Error }> {
    const controller = new AbortController();
    const timeoutMs = node.data.timeout_ms ?? this.config.ENGINE_STEP_TIMEOUT_MS;
    const timer = setTimeout(
      () => controller.abort(new Error(`step timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.track(run.id, controller, true);
    if (Date.now() - (this.aborted.get(run.id) ?? -Infinity) <= ABORT_MEMORY_MS)
      controller.abort(new Error('run cancelled'));
    const stopTimer = this.metrics.stepDuration.startTimer({ type: node.type });
    try {
      const config = await this.renderConfig(node, context, controller.signal);
      const outcome = await abortable(
        this.executors.for(node.type).execute({
          tenantId: run.tenant_id,
          runId: run.id,
          stepId: step.step_id,
          attempt: step.attempt,
          node,
          config,
          context,
          input: run.input,
          signal: controller.signal,
        }),
        controller.signal,
      );
      stopTimer({ outcome: outcome.kind });
      return outcome;
    } catch (error) {
      stopTimer({ outcome: 'failed' });
      return { error: asError(error) };
    } finally {
      clearTimeout(timer);
      this.track(run.id, controller, false);
    }
  }

  /** The node's config with its templates rendered; expression fields are left as written for the executor. */
  private async renderConfig(
    node: ReturnType<WorkflowGraph['node']>,
    context: RunContext,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const expressionFields = new Set(STEPS_BY_TYPE.get(node.type)?.expressionFields ?? []);
    const raw = node.data.config ?? {};
    const rendered = (await this.expressions
      .render(
        Object.fromEntries(Object.entries(raw).filter(([key]) => !expressionFields.has(key))),
        context,
        signal,
      )
      .catch((error: unknown) => {
        throw error instanceof ExpressionError ? new PermanentStepError(error.message) : error;
      })) as Record<string, unknown>;
    return {
      ...rendered,
      ...Object.fromEntries(Object.entries(raw).filter(([key]) => expressionFields.has(key))),
    };
  }

  /** Applies an attempt's outcome to a running step, in the run's unit of work. */
  private async settleInUnit(
    effects: Effects,
    unit: RunUnit,
    step: StepRunEntity,
    outcome: StepOutcome,
    from: StepStatus[],
  ): Promise<void> {
    if (outcome.kind === 'completed') {
      await this.completeInUnit(effects, unit, step.step_id, step.attempt, from, outcome.output);
    } else if (outcome.kind === 'waiting') {
      await this.waitInUnit(effects, unit, step, { deadlineMs: outcome.deadlineMs });
    } else {
      await this.callInUnit(effects, unit, step, outcome.workflowId, outcome.input);
    }
  }

  private async completeInUnit(
    effects: Effects,
    unit: RunUnit,
    stepId: string,
    attempt: number,
    from: StepStatus[],
    output: unknown,
  ): Promise<boolean> {
    if (!unit.transition(stepId, from, attempt, { status: 'completed', output, error: null, finished: true }))
      return false;
    const stillWaiting = [...unit.steps.values()].some((s) => s.status === 'waiting');
    if (unit.run.status === 'paused' && !stillWaiting) {
      unit.set({ status: 'running' });
      this.event(effects, unit, 'run.resumed', stepId, {});
    }
    this.event(effects, unit, 'step.completed', stepId, { attempt, output });
    if (!TERMINAL_RUN_STATUSES.includes(unit.run.status)) await this.advance(effects, unit);
    return true;
  }

  private async failAttempt(runId: string, step: StepRunEntity, error: Error): Promise<void> {
    await this.transact(async (effects) => {
      const unit = await this.lock(effects, runId);
      if (unit && !TERMINAL_RUN_STATUSES.includes(unit.run.status))
        await this.failInUnit(effects, unit, step, error);
    }, runId);
  }

  /** A failed attempt: queued again with backoff while attempts remain (and the error can pass), else failed. */
  private async failInUnit(
    effects: Effects,
    unit: RunUnit,
    step: StepRunEntity,
    error: Error,
  ): Promise<void> {
    const node = (await this.graphOfRun(unit.run)).node(step.step_id);
    const maxAttempts = node.data.retry?.max_attempts ?? this.config.ENGINE_MAX_ATTEMPTS;
    if (!(error instanceof PermanentStepError) && step.attempt < maxAttempts) {
      const delayMs =
        (node.data.retry?.backoff_ms ?? this.config.ENGINE_BACKOFF_MS) * 2 ** (step.attempt - 1);
      const attempt = step.attempt + 1;
      const moved = unit.transition(step.step_id, ['running'], step.attempt, {
        status: 'queued',
        attempt,
        error: error.message,
        not_before: new Date(Date.now() + delayMs),
      });
      if (!moved) return;
      this.event(effects, unit, 'step.retrying', step.step_id, {
        attempt,
        error: error.message,
        delay_ms: delayMs,
      });
      effects.jobs.push({
        tenantId: unit.run.tenant_id,
        runId: unit.run.id,
        stepId: step.step_id,
        attempt,
        delayMs,
        kind: 'execute',
      });
      return;
    }
    if (
      !unit.transition(step.step_id, ['running', 'waiting'], step.attempt, {
        status: 'failed',
        error: error.message,
        finished: true,
      })
    )
      return;
    this.event(effects, unit, 'step.failed', step.step_id, { attempt: step.attempt, error: error.message });
    await this.finishRun(effects, unit, 'failed', `step '${step.step_id}' failed: ${error.message}`);
  }

  /**
   * Queues what became runnable, skips what cannot run any more, runs pure steps inline (as many as the inline
   * budget allows; the rest go out as jobs), and ends the run when nothing is left.
   */
  private async advance(effects: Effects, unit: RunUnit): Promise<void> {
    const graph = await this.graphOfRun(unit.run);
    const deadline = Date.now() + INLINE_MAX_MS;
    let budget = INLINE_MAX_STEPS;
    for (;;) {
      const { run: runnable, skip } = graph.decide(unit.steps);
      const inline: string[] = [];
      const queue: string[] = [];
      for (const id of runnable) {
        const node = graph.node(id);
        if (
          budget > 0 &&
          Date.now() < deadline &&
          this.executors.for(node.type).inline(node.data.config ?? {})
        ) {
          budget -= 1;
          inline.push(id);
        } else queue.push(id);
      }
      const ran = await this.runInline(unit, graph, inline);
      this.insertRound(effects, unit, graph, { skip, queue, ran });
      if (TERMINAL_RUN_STATUSES.includes(unit.run.status)) return;
      const failed = ran.find((result) => 'error' in result);
      if (failed && 'error' in failed) {
        await this.failInUnit(effects, unit, unit.steps.get(failed.id) as StepRunEntity, failed.error);
        return;
      }
      if (ran.length === 0) break;
    }
    const open = [...unit.steps.values()].some((s) => OPEN_STEP_STATUSES.includes(s.status));
    if (!open) await this.finishRun(effects, unit, 'completed', null);
  }

  /** Pure steps, evaluated one after another against the context as it stands: each output or its error. */
  private async runInline(unit: RunUnit, graph: WorkflowGraph, ids: string[]): Promise<InlineResult[]> {
    const ran: InlineResult[] = [];
    for (const id of ids) {
      const step = { run_id: unit.run.id, step_id: id, attempt: 1 } as StepRunEntity;
      const outcome = await this.attempt(unit.run, step, graph.node(id), unit.context());
      if ('error' in outcome) ran.push({ id, error: outcome.error });
      else if (outcome.kind === 'completed') ran.push({ id, output: outcome.output });
      else ran.push({ id, error: new PermanentStepError(`step '${id}' is not pure: it did not complete`) });
    }
    return ran;
  }

  /**
   * One round of new step rows, in the unit at once and written with the run's row at its end: skipped, queued
   * (their jobs go out after commit) and those just run inline (completed, or running when they failed: the
   * failure is then recorded like any attempt's). Their ids are made here; the unit holds all of the run's steps
   * (read with its lock, or by a read its write checks), so none of them can exist yet (if one did, the unique
   * key would refuse the write and the unit roll back).
   */
  private insertRound(effects: Effects, unit: RunUnit, graph: WorkflowGraph, round: Round): void {
    const { run } = unit;
    const base = (id: string) => ({
      id: randomUUID(),
      run_id: run.id,
      tenant_id: run.tenant_id,
      step_id: id,
      type: graph.node(id).type,
    });
    const delays = new Map((round.queue ?? []).map((id) => [id, this.queueDelay(graph, id)]));
    // Sticky execution: the first I/O step due now is claimed for the job completing its predecessor, as it is
    // inserted (running, carried by that job); the others get jobs of their own.
    const carried =
      effects.carrier && !effects.carried
        ? round.queue?.find((id) => {
            const node = graph.node(id);
            return !delays.get(id) && !this.executors.for(node.type).inline(node.data.config ?? {});
          })
        : undefined;
    const rows = [
      ...(round.skip ?? []).map((id) => ({ ...base(id), status: 'skipped' as const, finished: true })),
      ...(round.queue ?? []).map((id) => {
        const delayMs = delays.get(id) ?? 0;
        if (id === carried)
          return { ...base(id), status: 'running' as const, started: true, carried_by: effects.carrier };
        return {
          ...base(id),
          status: 'queued' as const,
          not_before: delayMs > 0 ? new Date(Date.now() + delayMs) : null,
        };
      }),
      ...(round.ran ?? []).map((result) =>
        'output' in result
          ? {
              ...base(result.id),
              status: 'completed' as const,
              output: result.output,
              started: true,
              finished: true,
            }
          : { ...base(result.id), status: 'running' as const, started: true },
      ),
    ];
    unit.newSteps.push(...rows);
    for (const row of rows) {
      unit.setStep({ ...row, attempt: 1, output: 'output' in row ? row.output : null });
      if (row.status === 'skipped') this.event(effects, unit, 'step.skipped', row.step_id, {});
      else if (row.step_id === carried) {
        effects.carried = carried;
        this.event(effects, unit, 'step.queued', row.step_id, { attempt: 1 });
        this.event(effects, unit, 'step.started', row.step_id, { attempt: 1 });
      } else if (row.status === 'queued') {
        this.event(effects, unit, 'step.queued', row.step_id, { attempt: 1 });
        effects.jobs.push({
          tenantId: run.tenant_id,
          runId: run.id,
          stepId: row.step_id,
          attempt: 1,
          delayMs: delays.get(row.step_id) ?? 0,
          kind: 'execute',
        });
      } else {
        if (unit.run.status === 'pending') {
          unit.set({ status: 'running', started_at: new Date() });
          this.event(effects, unit, 'run.started', null, {});
        }
        this.event(effects, unit, 'step.started', row.step_id, { attempt: 1 });
        if (row.status === 'completed')
          this.event(effects, unit, 'step.completed', row.step_id, { attempt: 1, output: row.output });
      }
    }
  }

  /** How long a step's job waits before it runs (a delay step's duration). */
  private queueDelay(graph: WorkflowGraph, stepId: string): number {
    const node = graph.node(stepId);
    return this.executors.for(node.type).queueDelayMs(node.data.config ?? {});
  }

  /** running -> waiting, with its deadline (a timer job) or the child it waits on; the run pauses. */
  private async waitInUnit(
    effects: Effects,
    unit: RunUnit,
    step: StepRunEntity,
    wait: { deadlineMs?: number; childKey?: string },
  ): Promise<boolean> {
    const deadline = wait.deadlineMs ? new Date(Date.now() + wait.deadlineMs) : null;
    if (
      !unit.transition(step.step_id, ['running'], step.attempt, {
        status: 'waiting',
        not_before: deadline,
        child_key: wait.childKey ?? null,
      })
    )
      return false;
    this.event(effects, unit, 'step.waiting', step.step_id, {});
    if (unit.run.status === 'running') {
      unit.set({ status: 'paused' });
      this.event(effects, unit, 'run.paused', step.step_id, {});
    }
    if (wait.deadlineMs)
      effects.jobs.push({
        tenantId: unit.run.tenant_id,
        runId: unit.run.id,
        stepId: step.step_id,
        attempt: step.attempt,
        delayMs: wait.deadlineMs,
        kind: 'approval-timeout',
      });
    return true;
  }

  /** A waiting step's deadline passed: its executor decides (an approval's on_timeout). */
  private async deadlinePassed(runId: string, stepId: string, attempt: number): Promise<void> {
    const step = await this.runs.findStep(runId, stepId);
    if (!step || step.status !== 'waiting' || step.attempt !== attempt) return;
    const run = await this.runs.findRunForEngine(runId);
    if (!run) return;
    const node = (await this.graphOfRun(run)).node(stepId);
    let output: unknown;
    try {
      output = this.executors.for(node.type).deadlinePassed(node.data.config ?? {});
    } catch (error) {
      return this.failAttempt(runId, step, asError(error));
    }
    await this.complete(runId, stepId, attempt, ['waiting'], output);
  }

  /**
   * workflow.call: the parent step waits and its child run is created in the same unit of work, so a crash
   * leaves either both or neither; the child's key is deterministic per attempt.
   */
  private async callInUnit(
    effects: Effects,
    unit: RunUnit,
    step: StepRunEntity,
    workflowId: string,
    input: unknown,
  ): Promise<void> {
    if (effects.unlocked) throw new NeedsLock();
    let workflow: WorkflowEntity;
    try {
      workflow = await this.workflows.require(unit.run.tenant_id, workflowId);
      if (workflow.status !== 'published')
        throw new PermanentStepError(`workflow '${workflowId}' is not published`);
    } catch (error) {
      return this.failInUnit(effects, unit, step, asError(error));
    }
    const childKey = childKeyOf(step);
    if (!(await this.waitInUnit(effects, unit, step, { childKey }))) return;
    await this.start({
      tenantId: unit.run.tenant_id,
      workflow,
      input,
      triggerType: 'workflow',
      idempotencyKey: childKey,
      parent: { runId: unit.run.id, stepId: step.step_id, requestId: unit.run.request_id },
    });
  }

  /** Ends a run: open steps cancelled, children cancelled, the parent told. In the run's unit of work. */
  private async finishRun(
    effects: Effects,
    unit: RunUnit,
    status: 'completed' | 'failed' | 'cancelled',
    error: string | null,
  ): Promise<void> {
    const { run } = unit;
    // The unit holds every step of the run as of its lock (or read) and each change since: what it shows is what
    // there is.
    const steps = [...unit.steps.values()];
    // Only a step that waited on a child run (its child_key) can have started one.
    const parentOf = steps.some((s) => s.child_key);
    if (effects.unlocked && parentOf) throw new NeedsLock();
    const closed = steps.filter((s) =>
      unit.transition(s.step_id, OPEN_STEP_STATUSES, undefined, { status: 'cancelled', finished: true }),
    );
    unit.set({ status, error, completed_at: new Date() });
    await this.statusChanged(effects, run, status, error);
    for (const step of closed) this.event(effects, unit, 'step.cancelled', step.step_id, {});
    this.event(effects, unit, `run.${status}`, null, error ? { error } : {});
    effects.finished.push({ status, tenant_id: run.tenant_id });
    if (closed.length > 0) effects.aborts.push(run.id);
    const children = parentOf ? await this.runs.activeChildrenForEngine(run.id) : [];
    for (const childId of children) {
      const child = await this.lock(effects, childId);
      if (child && !TERMINAL_RUN_STATUSES.includes(child.run.status))
        await this.finishRun(effects, child, 'cancelled', null);
    }
    if (run.parent_run_id && status !== 'cancelled') effects.parents.push(run.id);
    else if (!run.parent_run_id && unit.tenantHasHeld && !effects.unlocked) {
      // Only a tenant with held runs pays for the slot lock when a run ends (engine_lock_run() said so). A run
      // held concurrently (committed after the lock) looks at the slots again once it commits; the reconciler
      // catches what both miss.
      const limit = await this.runs.lockRunSlots(run.tenant_id);
      await this.admitInUnit(effects, run.tenant_id, limit, [run.id]);
    }
  }

  /** The run hooks of a status change, in the transaction that makes it (so never without one). */
  private async statusChanged(effects: Effects, run: RunEntity, status: RunStatus, error: string | null) {
    if (effects.unlocked && this.hooks.has(run.trigger_type)) throw new NeedsLock();
    await this.hooks.statusChanged(run, status, error);
  }

  /** Under the tenant's run-slot lock: the plan's cap when every slot is in use; null when one is free or no cap. */
  private async fullCap(tenantId: string): Promise<number | null> {
    const limit = await this.runs.lockRunSlots(tenantId);
    return limit !== null && (await this.reads.openRootRuns(vouchedTenant(tenantId), [])) >= limit
      ? limit
      : null;
  }

  /** Admits the tenant's held runs while slots are free (the reconciler's pass: a raised or lifted limit). */
  async admitHeld(tenantId: string): Promise<number> {
    return this.transact(async (effects) =>
      this.admitInUnit(effects, tenantId, await this.runs.lockRunSlots(tenantId), []),
    );
  }

  /**
   * Under the tenant's run-slot lock: its oldest held runs, as many as `limit` leaves room for (all when null),
   * start. `ending` are runs this transaction ends: still open in the database until it commits.
   */
  private async admitInUnit(
    effects: Effects,
    tenantId: string,
    limit: number | null,
    ending: string[],
  ): Promise<number> {
    const held = await this.runs.lockHeldRuns(tenantId, limit ?? ADMIT_PAGE, ending);
    if (held.length === 0) return 0;
    const free =
      limit === null ? held.length : limit - (await this.reads.openRootRuns(vouchedTenant(tenantId), ending));
    let admitted = 0;
    for (const runId of held.slice(0, Math.max(0, free))) {
      const unit = await this.lock(effects, runId);
      if (!unit || unit.run.status !== 'pending' || !unit.run.held) continue;
      unit.set({ held: false });
      this.event(effects, unit, 'run.admitted', null, {});
      const graph = await this.graphOfRun(unit.run);
      this.insertRound(effects, unit, graph, { queue: [graph.trigger().id] });
      admitted += 1;
    }
    return admitted;
  }

  /** The run locked for this unit of work (once per transaction), with its steps. */
  private async lock(effects: Effects, runId: string): Promise<RunUnit | undefined> {
    const known = effects.units.get(runId);
    if (known) return known;
    if (effects.unlocked) throw new NeedsLock();
    const locked = await this.runs.lockRunForEngine(runId);
    if (!locked) return undefined;
    const unit = this.unitOf(locked);
    effects.units.set(runId, unit);
    return unit;
  }

  private unitOf(locked: RunWithSteps): RunUnit {
    return new RunUnit(locked.run, new Map(locked.steps.map((s) => [s.step_id, s])), locked.tenantHasHeld);
  }

  private event(
    effects: Effects,
    unit: RunUnit,
    type: string,
    stepId: string | null,
    details: Record<string, unknown>,
  ): void {
    const { run } = unit;
    // A step's output keeps its credentials for the steps after it (step_runs); its events show none.
    const data = redactSecrets(details);
    run.next_seq += 1;
    const timestamp = new Date();
    unit.events.push({ seq: run.next_seq, event_type: type, step_id: stepId, data, timestamp });
    effects.events.push({
      tenant_id: run.tenant_id,
      topic: 'runs',
      resource_id: run.id,
      type,
      seq: run.next_seq,
      step_id: stepId,
      data,
      timestamp: timestamp.toISOString(),
    });
    const logged = LOGGED_EVENTS[type];
    if (logged) {
      effects.logs.push({
        level: logged.level,
        line: {
          msg: logged.msg,
          event: type,
          run_id: run.id,
          tenant_id: run.tenant_id,
          workflow_id: run.workflow_id,
          ...(stepId ? { step_id: stepId } : {}),
          ...data,
          request_id: run.request_id,
        },
      });
    }
  }

  /**
   * A unit of work: each run it touched written once (its row and its events in one statement) at the end, and
   * its effects run once the outermost transaction commits (never when it rolls back). `lockFirst`: the run
   * `work` locks before anything else, locked by the statement that begins the transaction.
   */
  private transact<T>(work: (effects: Effects) => Promise<T>, lockFirst?: string): Promise<T> {
    const unitOfWork = async (effects: Effects) => {
      const result = await work(effects);
      for (const unit of effects.units.values()) {
        const save = unit.toSave();
        if (save) await this.runs.saveRun(unit.run.id, save);
      }
      this.tx.afterCommit(() => this.flush(effects));
      return result;
    };
    if (lockFirst === undefined) return this.tx.run(() => unitOfWork(new Effects()));
    return this.runs.inRunLock(lockFirst, (locked) => {
      const effects = new Effects();
      if (locked) effects.units.set(lockFirst, this.unitOf(locked));
      return unitOfWork(effects);
    });
  }

  /**
   * transact() without the run's lock, for a run this job has just read or committed a transition of: `work` runs
   * against the run as it was then (`known`), and what it writes goes in one statement, no transaction, on
   * condition that no other transition came in between (next_seq unchanged: every transition writes events).
   * When one did, when `work` wrote nothing (it may have seen a state already gone), or when it needs a statement
   * of its own (another run's lock, a run hook, a child run), `work` runs again, as a transaction under the lock.
   */
  private async transactAfter<T>(known: RunUnit, work: (effects: Effects) => Promise<T>): Promise<T> {
    const { run } = known;
    const effects = new Effects();
    effects.unlocked = true;
    const unit = known.next();
    effects.units.set(run.id, unit);
    try {
      const result = await work(effects);
      const save = unit.toSave();
      const saved = save && (await this.runs.saveRunIf(run.next_seq, run.id, save));
      if (!saved) return await this.transact(work, run.id);
      // A top-level run ended: its tenant's held runs are admitted as after any commit that held one.
      if (saved.tenantHasHeld && !run.parent_run_id && effects.finished.length > 0)
        effects.held.add(run.tenant_id);
      await this.flush(effects);
      return result;
    } catch (error) {
      if (error instanceof NeedsLock) return this.transact(work, run.id);
      throw error;
    }
  }

  /**
   * After commit: enqueue (one round trip), publish (not awaited: watchers' events never hold the next step;
   * the event log is the record), tell parents, abort cancelled work. A crash here is the reconciler's.
   */
  private async flush(effects: Effects): Promise<void> {
    for (const labels of effects.started) this.metrics.runsStarted.inc(labels);
    for (const labels of effects.finished) this.metrics.runsFinished.inc(labels);
    for (const { level, line } of effects.logs) this.logger[level === 'warn' ? 'warn' : 'log'](line);
    void this.publisher.publish(effects.events);
    await this.enqueue(...effects.jobs);
    if (effects.aborts.length > 0) await this.publisher.publishControl({ abort_runs: effects.aborts });
    for (const runId of effects.parents) await this.notifyParent(runId);
    for (const tenantId of effects.held)
      await this.admitHeld(tenantId).catch((error: Error) =>
        this.logger.warn(
          `admitting held runs of '${tenantId}' failed (the reconciler retries): ${error.message}`,
        ),
      );
  }

  /** After commit, in one round trip; each job's priority is its tenant's fair share (see FairShare). */
  async enqueue(...jobs: StepJob[]): Promise<void> {
    await this.jobs.enqueueMany(
      'engine.step',
      jobs.map((job) => ({
        payload: {
          run_id: job.runId,
          step_id: job.stepId,
          attempt: job.attempt,
          kind: job.kind,
          ...(job.known && { known: job.known }),
        },
        options: {
          jobId: jobIdOf(job),
          delay: Math.max(0, job.delayMs),
          attempts: 1,
          priority: this.fairShare.priority(job.tenantId),
        },
      })),
    );
  }

  private track(runId: string, controller: AbortController, add: boolean): void {
    const set = this.inFlight.get(runId) ?? new Set<AbortController>();
    if (add) set.add(controller);
    else set.delete(controller);
    if (set.size > 0) this.inFlight.set(runId, set);
    else this.inFlight.delete(runId);
  }

  /** Published workflows never change, so their parsed graph is kept per id. */
  graphOf(workflow: WorkflowEntity): WorkflowGraph {
    let graph = this.graphs.get(workflow.id);
    if (!graph) {
      graph = new WorkflowGraph(workflow.definition);
      if (workflow.status === 'published') this.graphs.set(workflow.id, graph);
    }
    return graph;
  }

  async graphOfRun(run: RunEntity): Promise<WorkflowGraph> {
    return (
      this.graphs.get(run.workflow_id) ??
      this.graphOf(await this.workflows.require(run.tenant_id, run.workflow_id))
    );
  }
}

/** Rejects as soon as the signal aborts, whether or not the work listens to it. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
