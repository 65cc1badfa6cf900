import { Injectable } from '@nestjs/common';
import { STEP_CATALOG } from '../../workflows/steps';
import {
  ApprovalExecutor,
  ConditionExecutor,
  DelayExecutor,
  TransformExecutor,
  TriggerExecutor,
  WorkflowCallExecutor,
} from './basic.executors';
import { HttpRequestExecutor } from './http-request.executor';
import { SqlQueryExecutor } from './sql-query.executor';
import type { StepExecutor } from './step-executor';

export const EXECUTOR_CLASSES = [
  TriggerExecutor,
  HttpRequestExecutor,
  TransformExecutor,
  ConditionExecutor,
  DelayExecutor,
  ApprovalExecutor,
  SqlQueryExecutor,
  WorkflowCallExecutor,
];

/** Step type -> executor; refuses to start when a catalog step type has no executor or two. */
@Injectable()
export class ExecutorRegistry {
  private readonly byType = new Map<string, StepExecutor>();

  constructor(
    trigger: TriggerExecutor,
    http: HttpRequestExecutor,
    transform: TransformExecutor,
    condition: ConditionExecutor,
    delay: DelayExecutor,
    approval: ApprovalExecutor,
    sql: SqlQueryExecutor,
    call: WorkflowCallExecutor,
  ) {
    for (const executor of [trigger, http, transform, condition, delay, approval, sql, call]) {
      for (const type of executor.types) {
        if (this.byType.has(type)) throw new Error(`step type '${type}' has two executors`);
        this.byType.set(type, executor);
      }
    }
    const missing = STEP_CATALOG.filter((step) => !this.byType.has(step.type)).map((step) => step.type);
    if (missing.length > 0) throw new Error(`step types without an executor: ${missing.join(', ')}`);
  }

  for(type: string): StepExecutor {
    const executor = this.byType.get(type);
    if (!executor) throw new Error(`no executor for step type '${type}'`);
    return executor;
  }
}
