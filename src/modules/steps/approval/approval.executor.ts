import { Injectable } from '@nestjs/common';
import { PermanentStepError, type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** Waits for POST /runs/{id}/resume (or the configured timeout, which the engine schedules). */
@Injectable()
export class ApprovalExecutor extends StepExecutor {
  async execute(context: StepContext): Promise<StepOutcome> {
    const timeoutMs = Number(context.config.timeout_ms ?? 0);
    return { kind: 'waiting', ...(timeoutMs > 0 ? { deadlineMs: timeoutMs } : {}) };
  }

  override deadlinePassed(config: Record<string, unknown>): unknown {
    if (config.on_timeout === 'approve') return { approved: true, timed_out: true };
    throw new PermanentStepError('approval timed out');
  }
}
