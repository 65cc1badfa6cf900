import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { EngineConfig } from '../../core/config/engine.config';
import { Transactions } from '../../core/database/transaction';
import { type DomainEvent, EventPublisher } from '../../core/events/event-publisher';
import { AppException } from '../../core/http/app.exception';
import { currentRequestId } from '../../core/tenancy/request-context';
import { MetricsService } from '../../core/metrics/metrics.service';
import { JobQueue } from '../../core/queue/job-queue.service';
import type { RunEventEntity } from '../runs/entities/run-event.entity';
import { type RunContext, type RunEntity, TERMINAL_RUN_STATUSES } from '../runs/entities/run.entity';
import type { StepRunEntity, StepStatus } from '../runs/entities/step-run.entity';
import { RunsRepository } from '../runs/runs.repository';
import type { WorkflowEntity } from '../workflows/entities/workflow.entity';
import { WorkflowsService } from '../workflows/workflows.service';
import { STEPS_BY_TYPE } from '../workflows/steps';
import { ExecutorRegistry } from './executors/executor-registry';
import { PermanentStepError, type StepOutcome } from './executors/step-executor';
import { renderTemplates } from './expressions';
import { WorkflowGraph } from './graph';

export class RunConflictException extends AppException {
  constructor(message: string) {
    super('CONFLICT', HttpStatus.CONFLICT, message);
  }
}

interface StepJob {
  runId: string;
  stepId: string;
  attempt: number;
  delayMs: number;
  kind: 'execute' | 'approval-timeout';
}

/** What a transaction decided that must happen after it commits: jobs to enqueue, events to publish. */
class Effects {
  readonly jobs: StepJob[] = [];
  readonly events: DomainEvent[] = [];
  readonly parents: string[] = [];
  readonly aborts: string[] = [];
  /** Counted after commit, so a rolled-back transition counts nothing. */
  readonly started: string[] = [];
  readonly finished: string[] = [];
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

/**
 * The run state machine. Postgres holds every run's state and BullMQ only delivers work: each transition
 * happens in one transaction under the run's row lock (a step's completion, its event, the context and its
 * successors' rows together), and the jobs for newly queued steps are enqueued after commit. A crash between
 * commit and enqueue leaves queued rows without jobs, which the reconciler re-delivers; job ids are
 * deterministic and every transition is conditional on the step's current status and attempt, so a duplicate
 * delivery changes nothing.
 */
@Injectable()
export class EngineService {
  private readonly logger = new Logger('Engine');
  private readonly graphs = new Map<string, WorkflowGraph>();
  /** Abort controllers of steps executing in this process, by run: cancel aborts them. */
  private readonly inFlight = new Map<string, Set<AbortController>>();

  constructor(
    private readonly runs: RunsRepository,
    private readonly workflows: WorkflowsService,
    private readonly executors: ExecutorRegistry,
    private readonly jobs: JobQueue,
    private readonly publisher: EventPublisher,
    private readonly tx: Transactions,
    private readonly config: EngineConfig,
    private readonly metrics: MetricsService,
  ) {}

  // ---- API side ----------------------------------------------------------------------------------

  /** Creates a run (or finds the one with the same idempotency key) and queues its trigger. */
  async start(params: StartRun): Promise<{ run: RunEntity; created: boolean }> {
    const effects = new Effects();
    const result = await this.tx.run(async () => {
      if (params.idempotencyKey) {
        const existing = await this.runs.findRunByKey(params.tenantId, params.idempotencyKey);
        if (existing) return { run: existing, created: false };
      }
      const run = await this.runs.insertRun({
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
      });
      if (!run) {
        // A concurrent start with the same key committed first.
        return {
          run: (await this.runs.findRunByKey(params.tenantId, params.idempotencyKey as string)) as RunEntity,
          created: false,
        };
      }
      const graph = this.graphOf(params.workflow);
      await this.event(effects, run, 'run.created', null, {
        trigger_type: run.trigger_type,
        workflow_version: run.workflow_version,
      });
      effects.started.push(run.trigger_type);
      await this.queue(effects, run, [graph.trigger().id], graph);
      return { run, created: true };
    });
    await this.flush(effects);
    return result;
  }

  /** Completes a waiting approval with the resume data, and carries on. */
  async resume(tenantId: string, runId: string, stepId: string, data: unknown): Promise<void> {
    const step = await this.runs.findStep(runId, stepId);
    if (!step || step.tenant_id !== tenantId || step.type !== 'approval' || step.status !== 'waiting') {
      throw new RunConflictException(`step '${stepId}' is not an approval waiting for input`);
    }
    const done = await this.complete(runId, stepId, step.attempt, ['waiting'], data ?? {});
    if (!done) throw new RunConflictException(`step '${stepId}' is no longer waiting`);
  }

  /** running/paused/pending -> cancelled: nothing new starts, steps in flight are aborted. */
  async cancel(tenantId: string, runId: string): Promise<void> {
    const effects = new Effects();
    await this.tx.run(async () => {
      const run = await this.runs.lockRunForEngine(runId);
      if (!run || run.tenant_id !== tenantId)
        throw new RunConflictException(`run '${runId}' cannot be cancelled`);
      if (TERMINAL_RUN_STATUSES.includes(run.status))
        throw new RunConflictException(`run '${runId}' is already ${run.status}`);
      await this.finishRun(effects, run, 'cancelled', null);
    });
    await this.flush(effects);
  }

  /** Failed runs only: failed (and cancelled) steps run again; completed steps keep their outputs. */
  async retry(tenantId: string, runId: string): Promise<void> {
    const effects = new Effects();
    await this.tx.run(async () => {
      const run = await this.runs.lockRunForEngine(runId);
      if (!run || run.tenant_id !== tenantId)
        throw new RunConflictException(`run '${runId}' cannot be retried`);
      if (run.status !== 'failed')
        throw new RunConflictException(`only failed runs can be retried; run '${runId}' is ${run.status}`);
      const steps = await this.runs.stepsOf(run.id);
      const again = steps.filter((s) => s.status === 'failed' || s.status === 'cancelled');
      const context: RunContext = { ...run.context, steps: { ...run.context.steps } };
      for (const step of again) delete context.steps[step.step_id];
      await this.runs.updateRun(run.id, { status: 'running', error: null, completed_at: null, context });
      run.status = 'running';
      await this.event(effects, run, 'run.retried', null, { steps: again.map((s) => s.step_id) });
      const graph = await this.graphOfRun(run);
      for (const step of again) {
        const attempt = step.attempt + 1;
        await this.runs.transitionStep(step.id, ['failed', 'cancelled'], undefined, {
          status: 'queued',
          attempt,
          error: null,
          not_before: null,
        });
        await this.event(effects, run, 'step.queued', step.step_id, { attempt });
        effects.jobs.push({
          runId: run.id,
          stepId: step.step_id,
          attempt,
          delayMs: this.initialDelay(graph, step.step_id),
          kind: 'execute',
        });
      }
    });
    await this.flush(effects);
  }

  // ---- worker side -------------------------------------------------------------------------------

  /** One delivery of an `engine.step` job. Safe to run twice: only the first delivery changes anything. */
  async runJob(job: {
    run_id: string;
    step_id: string;
    attempt: number;
    kind: 'execute' | 'approval-timeout';
  }): Promise<void> {
    if (job.kind === 'approval-timeout') return this.approvalTimedOut(job.run_id, job.step_id, job.attempt);
    const effects = new Effects();
    const claimed = await this.tx.run(async () => {
      const { run, step } = await this.runs.lockRunWithStepForEngine(job.run_id, job.step_id);
      if (!run || !step || step.attempt !== job.attempt) return undefined;
      if (TERMINAL_RUN_STATUSES.includes(run.status)) return undefined;
      // 'running' again: the worker that had it died; the job was redelivered.
      if (step.status !== 'queued' && step.status !== 'running') return undefined;
      if (step.status === 'queued') {
        await this.runs.transitionStep(step.id, ['queued'], step.attempt, {
          status: 'running',
          started: true,
          not_before: null,
        });
        if (run.status === 'pending') {
          await this.runs.updateRun(run.id, { status: 'running', started_at: new Date() });
          run.status = 'running';
          await this.event(effects, run, 'run.started', null, {});
        }
        await this.event(effects, run, 'step.started', step.step_id, { attempt: step.attempt });
      }
      return { run, step };
    });
    await this.flush(effects);
    if (!claimed) return;
    const { run, step } = claimed;
    const graph = await this.graphOfRun(run);
    const node = graph.node(step.step_id);
    const controller = new AbortController();
    const timeoutMs = node.data.timeout_ms ?? this.config.ENGINE_STEP_TIMEOUT_MS;
    const timer = setTimeout(
      () => controller.abort(new Error(`step timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.track(run.id, controller, true);
    let outcome: StepOutcome;
    const stopTimer = this.metrics.stepDuration.startTimer({ type: node.type });
    try {
      const definition = STEPS_BY_TYPE.get(node.type);
      const expressionFields = new Set(definition?.expressionFields ?? []);
      const raw = node.data.config ?? {};
      const rendered = (await renderTemplates(
        Object.fromEntries(Object.entries(raw).filter(([key]) => !expressionFields.has(key))),
        run.context,
      )) as Record<string, unknown>;
      const config = {
        ...rendered,
        ...Object.fromEntries(Object.entries(raw).filter(([key]) => expressionFields.has(key))),
      };
      outcome = await abortable(
        this.executors.for(node.type).execute({
          tenantId: run.tenant_id,
          runId: run.id,
          stepId: step.step_id,
          attempt: step.attempt,
          node,
          config,
          context: run.context,
          input: run.input,
          signal: controller.signal,
        }),
        controller.signal,
      );
    } catch (error) {
      stopTimer({ outcome: 'failed' });
      await this.failAttempt(run.id, step, error instanceof Error ? error : new Error(String(error)));
      return;
    } finally {
      clearTimeout(timer);
      this.track(run.id, controller, false);
    }
    stopTimer({ outcome: outcome.kind });
    if (outcome.kind === 'completed')
      await this.complete(run.id, step.step_id, step.attempt, ['running'], outcome.output);
    else if (outcome.kind === 'waiting') await this.wait(run.id, step, node.data.config ?? {});
    else await this.call(run, step, outcome.workflowId, outcome.input);
  }

  /** Aborts this process's executing steps of a run (the cancel signal every worker receives). */
  abortRun(runId: string): void {
    for (const controller of this.inFlight.get(runId) ?? []) controller.abort(new Error('run cancelled'));
  }

  /**
   * Records a step's completion once and decides what follows, in one transaction: successors queued (or
   * skipped), the run completed when nothing is left. False when the step was not in `from` any more.
   */
  async complete(
    runId: string,
    stepId: string,
    attempt: number,
    from: StepStatus[],
    output: unknown,
  ): Promise<boolean> {
    const effects = new Effects();
    const done = await this.tx.run(async () => {
      const { run, step } = await this.runs.lockRunWithStepForEngine(runId, stepId);
      if (!run || !step) return false;
      if (
        !(await this.runs.transitionStep(step.id, from, attempt, {
          status: 'completed',
          output,
          error: null,
          finished: true,
        }))
      )
        return false;
      const context: RunContext = {
        ...run.context,
        steps: { ...run.context.steps, [stepId]: { status: 'completed', output } },
      };
      const resuming = run.status === 'paused' && step.type === 'approval';
      await this.runs.updateRun(run.id, { context, ...(resuming ? { status: 'running' } : {}) });
      run.context = context;
      if (resuming) {
        run.status = 'running';
        await this.event(effects, run, 'run.resumed', stepId, {});
      }
      await this.event(effects, run, 'step.completed', stepId, { attempt, output });
      if (!TERMINAL_RUN_STATUSES.includes(run.status)) await this.advance(effects, run);
      return true;
    });
    await this.flush(effects);
    return done;
  }

  // ---- transitions -------------------------------------------------------------------------------

  private async failAttempt(runId: string, step: StepRunEntity, error: Error): Promise<void> {
    const effects = new Effects();
    await this.tx.run(async () => {
      const run = await this.runs.lockRunForEngine(runId);
      if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) return;
      const graph = await this.graphOfRun(run);
      const node = graph.node(step.step_id);
      const maxAttempts = node.data.retry?.max_attempts ?? this.config.ENGINE_MAX_ATTEMPTS;
      const permanent = error instanceof PermanentStepError;
      if (!permanent && step.attempt < maxAttempts) {
        const delayMs =
          (node.data.retry?.backoff_ms ?? this.config.ENGINE_BACKOFF_MS) * 2 ** (step.attempt - 1);
        const attempt = step.attempt + 1;
        const moved = await this.runs.transitionStep(step.id, ['running'], step.attempt, {
          status: 'queued',
          attempt,
          error: error.message,
          not_before: new Date(Date.now() + delayMs),
        });
        if (!moved) return;
        await this.event(effects, run, 'step.retrying', step.step_id, {
          attempt,
          error: error.message,
          delay_ms: delayMs,
        });
        effects.jobs.push({ runId, stepId: step.step_id, attempt, delayMs, kind: 'execute' });
        return;
      }
      if (
        !(await this.runs.transitionStep(step.id, ['running', 'waiting'], step.attempt, {
          status: 'failed',
          error: error.message,
          finished: true,
        }))
      )
        return;
      await this.recordStep(run, step.step_id, 'failed');
      await this.event(effects, run, 'step.failed', step.step_id, {
        attempt: step.attempt,
        error: error.message,
      });
      await this.finishRun(effects, run, 'failed', `step '${step.step_id}' failed: ${error.message}`);
    });
    await this.flush(effects);
  }

  /** Queues what became runnable, skips what cannot run any more, and ends the run when nothing is left. */
  private async advance(effects: Effects, run: RunEntity): Promise<void> {
    const graph = await this.graphOfRun(run);
    const steps = await this.runs.stepsOf(run.id);
    const state = new Map(steps.map((s) => [s.step_id, { status: s.status, output: s.output }]));
    const { run: runnable, skip } = graph.decide(state);
    if (skip.length > 0) {
      await this.runs.insertSteps(
        skip.map((id) => ({
          run_id: run.id,
          tenant_id: run.tenant_id,
          step_id: id,
          type: graph.node(id).type,
          status: 'skipped' as const,
        })),
      );
      for (const id of skip) {
        await this.recordStep(run, id, 'skipped');
        await this.event(effects, run, 'step.skipped', id, {});
      }
    }
    await this.queue(effects, run, runnable, graph);
    const open =
      steps.some((s) => ['queued', 'running', 'waiting', 'pending'].includes(s.status)) ||
      runnable.length > 0;
    if (!open) await this.finishRun(effects, run, 'completed', null);
  }

  private async queue(
    effects: Effects,
    run: RunEntity,
    stepIds: string[],
    graph: WorkflowGraph,
  ): Promise<void> {
    const rows = stepIds.map((id) => {
      const delayMs = this.initialDelay(graph, id);
      return {
        run_id: run.id,
        tenant_id: run.tenant_id,
        step_id: id,
        type: graph.node(id).type,
        status: 'queued' as const,
        not_before: delayMs > 0 ? new Date(Date.now() + delayMs) : null,
        delayMs,
      };
    });
    const inserted = new Set(await this.runs.insertSteps(rows));
    for (const row of rows.filter((r) => inserted.has(r.step_id))) {
      await this.event(effects, run, 'step.queued', row.step_id, { attempt: 1 });
      effects.jobs.push({
        runId: run.id,
        stepId: row.step_id,
        attempt: 1,
        delayMs: row.delayMs,
        kind: 'execute',
      });
    }
  }

  /** A delay step waits as a delayed job: no worker is held. */
  private initialDelay(graph: WorkflowGraph, stepId: string): number {
    const node = graph.node(stepId);
    return node.type === 'delay' ? Number(node.data.config?.duration_ms ?? 0) : 0;
  }

  private async wait(runId: string, step: StepRunEntity, config: Record<string, unknown>): Promise<void> {
    const effects = new Effects();
    await this.tx.run(async () => {
      const run = await this.runs.lockRunForEngine(runId);
      if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) return;
      if (!(await this.runs.transitionStep(step.id, ['running'], step.attempt, { status: 'waiting' })))
        return;
      await this.recordStep(run, step.step_id, 'waiting');
      await this.event(effects, run, 'step.waiting', step.step_id, {});
      if (run.status === 'running') {
        await this.runs.updateRun(run.id, { status: 'paused' });
        run.status = 'paused';
        await this.event(effects, run, 'run.paused', step.step_id, {});
      }
      const timeoutMs = Number(config.timeout_ms ?? 0);
      if (timeoutMs > 0)
        effects.jobs.push({
          runId,
          stepId: step.step_id,
          attempt: step.attempt,
          delayMs: timeoutMs,
          kind: 'approval-timeout',
        });
    });
    await this.flush(effects);
  }

  private async approvalTimedOut(runId: string, stepId: string, attempt: number): Promise<void> {
    const step = await this.runs.findStep(runId, stepId);
    if (!step || step.status !== 'waiting' || step.attempt !== attempt) return;
    const run = await this.runs.findRunForEngine(runId);
    const graph = run && (await this.graphOfRun(run));
    const onTimeout = graph?.node(stepId).data.config?.on_timeout ?? 'reject';
    if (onTimeout === 'approve') {
      await this.complete(runId, stepId, attempt, ['waiting'], { approved: true, timed_out: true });
    } else {
      await this.failAttempt(
        runId,
        { ...step, status: 'waiting' },
        new PermanentStepError('approval timed out'),
      );
    }
  }

  /** workflow.call: starts the child (once per attempt, by idempotency key) and waits for it to end. */
  private async call(
    parent: RunEntity,
    step: StepRunEntity,
    workflowId: string,
    input: unknown,
  ): Promise<void> {
    try {
      const workflow = await this.workflows.require(parent.tenant_id, workflowId);
      if (workflow.status !== 'published')
        throw new PermanentStepError(`workflow '${workflowId}' is not published`);
      await this.wait(parent.id, step, {});
      const { run: child } = await this.start({
        tenantId: parent.tenant_id,
        workflow,
        input,
        triggerType: 'workflow',
        idempotencyKey: `call:${parent.id}:${step.step_id}:${step.attempt}`,
        parent: { runId: parent.id, stepId: step.step_id, requestId: parent.request_id },
      });
      // The child may have ended before this step was marked waiting.
      if (TERMINAL_RUN_STATUSES.includes(child.status)) await this.notifyParent(child.id);
    } catch (error) {
      await this.failAttempt(parent.id, step, error instanceof Error ? error : new Error(String(error)));
    }
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

  /** Ends a run: open steps cancelled, children cancelled, the parent told. Under the run's lock. */
  private async finishRun(
    effects: Effects,
    run: RunEntity,
    status: 'completed' | 'failed' | 'cancelled',
    error: string | null,
  ): Promise<void> {
    const closed = await this.runs.setStepsStatus(
      run.id,
      ['queued', 'running', 'waiting', 'pending'],
      'cancelled',
    );
    const context: RunContext = { ...run.context, steps: { ...run.context.steps } };
    for (const step of closed) context.steps[step.step_id] = { status: 'cancelled' };
    await this.runs.updateRun(run.id, { status, error, completed_at: new Date(), context });
    run.status = status;
    run.context = context;
    for (const step of closed) await this.event(effects, run, 'step.cancelled', step.step_id, {});
    await this.event(effects, run, `run.${status}`, null, error ? { error } : {});
    effects.finished.push(status);
    if (closed.length > 0) effects.aborts.push(run.id);
    for (const child of await this.runs.activeChildrenForEngine(run.id)) {
      const locked = await this.runs.lockRunForEngine(child.id);
      if (locked && !TERMINAL_RUN_STATUSES.includes(locked.status))
        await this.finishRun(effects, locked, 'cancelled', null);
    }
    if (run.parent_run_id && status !== 'cancelled') effects.parents.push(run.id);
  }

  private async recordStep(run: RunEntity, stepId: string, status: string): Promise<void> {
    const context: RunContext = { ...run.context, steps: { ...run.context.steps, [stepId]: { status } } };
    await this.runs.updateRun(run.id, { context });
    run.context = context;
  }

  private async event(
    effects: Effects,
    run: RunEntity,
    type: string,
    stepId: string | null,
    data: Record<string, unknown>,
  ): Promise<RunEventEntity> {
    const event = await this.runs.appendEvent(run.id, type, stepId, data);
    effects.events.push({
      tenant_id: run.tenant_id,
      topic: 'runs',
      resource_id: run.id,
      type,
      seq: event.seq,
      step_id: stepId,
      data,
      timestamp: event.timestamp.toISOString(),
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
    return event;
  }

  /** After commit: enqueue, publish, tell parents, abort cancelled work. A crash here is the reconciler's. */
  private async flush(effects: Effects): Promise<void> {
    for (const trigger of effects.started) this.metrics.runsStarted.inc({ trigger_type: trigger });
    for (const status of effects.finished) this.metrics.runsFinished.inc({ status });
    for (const { level, line } of effects.logs) this.logger[level === 'warn' ? 'warn' : 'log'](line);
    // Watchers' events go out first: they are committed facts, and the jobs do not wait on them.
    await Promise.all([
      this.publisher.publish(effects.events),
      ...effects.jobs.map((job) => this.enqueue(job)),
    ]);
    if (effects.aborts.length > 0) await this.publisher.publishControl({ abort_runs: effects.aborts });
    for (const runId of effects.parents) await this.notifyParent(runId);
  }

  async enqueue(job: StepJob): Promise<void> {
    await this.jobs.enqueue(
      'engine.step',
      { run_id: job.runId, step_id: job.stepId, attempt: job.attempt, kind: job.kind },
      { jobId: jobIdOf(job), delay: Math.max(0, job.delayMs), attempts: 1 },
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
