import { Injectable } from '@nestjs/common';
import type { RunEntity, RunStatus } from './persistence/entities/run.entity';

/** Called inside the transaction that changes the run's status: what it writes commits (or not) with it. */
export type RunStatusHook = (run: RunEntity, status: RunStatus, error: string | null) => Promise<void>;

/**
 * Lets a module keep its own records of runs in step with the engine without the engine knowing the module
 * (the pipelines module keeps `tenant_pipeline_runs`). Hooks are keyed by the runs' trigger type, so runs of
 * other kinds cost a map lookup.
 */
@Injectable()
export class RunHooks {
  private readonly byTrigger = new Map<string, RunStatusHook>();

  on(triggerType: string, hook: RunStatusHook): void {
    if (this.byTrigger.has(triggerType)) throw new Error(`a run hook for '${triggerType}' is already set`);
    this.byTrigger.set(triggerType, hook);
  }

  has(triggerType: string): boolean {
    return this.byTrigger.has(triggerType);
  }

  async statusChanged(run: RunEntity, status: RunStatus, error: string | null): Promise<void> {
    await this.byTrigger.get(run.trigger_type)?.(run, status, error);
  }
}
