import { Injectable } from '@nestjs/common';
import { ExpressionEvaluator } from '../expressions';
import { expressionValue, type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** The result picks the outgoing edge (`sourceHandle` "true"/"false"); the other branch is skipped. */
@Injectable()
export class ConditionExecutor extends StepExecutor {
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
