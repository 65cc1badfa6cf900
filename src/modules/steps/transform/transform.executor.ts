import { Injectable } from '@nestjs/common';
import { ExpressionEvaluator } from '../expressions';
import { expressionValue, type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

@Injectable()
export class TransformExecutor extends StepExecutor {
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
