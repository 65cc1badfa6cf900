import { Injectable } from '@nestjs/common';
import { evaluate, ExpressionError } from '../expressions';
import { PermanentStepError, type StepContext, StepExecutor, type StepOutcome } from './step-executor';

/** Triggers pass the run's input on. */
@Injectable()
export class TriggerExecutor extends StepExecutor {
  readonly types = ['trigger.manual', 'trigger.webhook', 'trigger.schedule'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: context.input };
  }
}

async function expressionValue(context: StepContext): Promise<unknown> {
  try {
    return await evaluate(String(context.config.expression), context.context);
  } catch (error) {
    if (error instanceof ExpressionError) throw new PermanentStepError(error.message);
    throw error;
  }
}

@Injectable()
export class TransformExecutor extends StepExecutor {
  readonly types = ['transform'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: (await expressionValue(context)) ?? null };
  }
}

/** The result picks the outgoing edge (`sourceHandle` "true"/"false"); the other branch is skipped. */
@Injectable()
export class ConditionExecutor extends StepExecutor {
  readonly types = ['condition'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: { result: Boolean(await expressionValue(context)) } };
  }
}

/** The waiting happened before: a delay step's job is enqueued with its duration as the job's delay. */
@Injectable()
export class DelayExecutor extends StepExecutor {
  readonly types = ['delay'] as const;

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: { waited_ms: Number(context.config.duration_ms ?? 0) } };
  }
}

/** Waits for POST /runs/{id}/resume (or the configured timeout, which the engine schedules). */
@Injectable()
export class ApprovalExecutor extends StepExecutor {
  readonly types = ['approval'] as const;

  async execute(): Promise<StepOutcome> {
    return { kind: 'waiting' };
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

/** Declared in the catalog, refused at publish until the data sandbox exists; never reached by a valid run. */
@Injectable()
export class SqlQueryExecutor extends StepExecutor {
  readonly types = ['sql.query'] as const;

  async execute(): Promise<StepOutcome> {
    throw new PermanentStepError('sql.query is not available yet');
  }
}
