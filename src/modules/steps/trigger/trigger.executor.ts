import { Injectable } from '@nestjs/common';
import { type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** Triggers pass the run's input on. */
@Injectable()
export class TriggerExecutor extends StepExecutor {
  override inline(): boolean {
    return true;
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: context.input };
  }
}
