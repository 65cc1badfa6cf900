import { Injectable } from '@nestjs/common';
import { type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** The waiting happened before: a delay step's job is enqueued with its duration as the job's delay. */
@Injectable()
export class DelayExecutor extends StepExecutor {
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
