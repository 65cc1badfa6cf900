import { Injectable } from '@nestjs/common';
import { ExpressionError, ExpressionEvaluator } from '../expressions';
import { PermanentStepError, type StepContext, StepExecutor, type StepOutcome } from './step-executor';

/** Triggers pass the run's input on. */
@Injectable()
export class TriggerExecutor extends StepExecutor {
  readonly types = ['trigger.manual', 'trigger.webhook', 'trigger.schedule'] as const;

  override inline(): boolean {
    return true;
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: context.input };
  }
}

/** The node's `expression`, evaluated off this event loop; a bad or runaway expression fails the step at once. */
export async function expressionValue(
  evaluator: ExpressionEvaluator,
  context: StepContext,
): Promise<unknown> {
  try {
    return await evaluator.evaluate(String(context.config.expression), context.context, context.signal);
  } catch (error) {
    if (error instanceof ExpressionError) throw new PermanentStepError(error.message);
    throw error;
  }
}

@Injectable()
export class TransformExecutor extends StepExecutor {
  readonly types = ['transform'] as const;

  constructor(private readonly evaluator: ExpressionEvaluator) {
    super();
  }

  override inline(): boolean {
    return true;
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: (await expressionValue(this.evaluator, context)) ?? null };
  }
}

/** The result picks the outgoing edge (`sourceHandle` "true"/"false"); the other branch is skipped. */
@Injectable()
export class ConditionExecutor extends StepExecutor {
  readonly types = ['condition'] as const;

  constructor(private readonly evaluator: ExpressionEvaluator) {
    super();
  }

  override inline(): boolean {
    return true;
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: { result: Boolean(await expressionValue(this.evaluator, context)) } };
  }
}

/** The waiting happened before: a delay step's job is enqueued with its duration as the job's delay. */
@Injectable()
export class DelayExecutor extends StepExecutor {
  readonly types = ['delay'] as const;

  override inline(config: Record<string, unknown>): boolean {
    return this.queueDelayMs(config) === 0;
  }

  override queueDelayMs(config: Record<string, unknown>): number {
    return Number(config.duration_ms ?? 0);
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: { waited_ms: Number(context.config.duration_ms ?? 0) } };
  }
}

/** Waits for POST /runs/{id}/resume (or the configured timeout, which the engine schedules). */
@Injectable()
export class ApprovalExecutor extends StepExecutor {
  readonly types = ['approval'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    const timeoutMs = Number(context.config.timeout_ms ?? 0);
    return { kind: 'waiting', ...(timeoutMs > 0 ? { deadlineMs: timeoutMs } : {}) };
  }

  override deadlinePassed(config: Record<string, unknown>): unknown {
    if (config.on_timeout === 'approve') return { approved: true, timed_out: true };
    throw new PermanentStepError('approval timed out');
  }
}

@Injectable()
export class WorkflowCallExecutor extends StepExecutor {
  readonly types = ['workflow.call'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    return {
      kind: 'call',
      workflowId: String(context.config.workflow_id),
      input: context.config.input ?? context.input,
    };
  }
}
