import { Injectable } from '@nestjs/common';
import { type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** The engine starts the child run (its outcome kind `call`); the step completes when the child ends. */
@Injectable()
export class WorkflowCallExecutor extends StepExecutor {
  async execute(context: StepContext): Promise<StepOutcome> {
    return {
      kind: 'call',
      workflowId: String(context.config.workflow_id),
      input: context.config.input ?? context.input,
    };
  }
}
