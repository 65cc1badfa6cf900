import { Injectable } from '@nestjs/common';
import { PipelineSteps } from '../../pipelines/steps/pipeline-steps.service';
import { type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** `pipeline.extract`, `pipeline.focus`, `pipeline.load`, `pipeline.dq`: the pipelines module does the work. */
@Injectable()
export class PipelineExecutor extends StepExecutor {
  constructor(private readonly steps: PipelineSteps) {
    super();
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    return { kind: 'completed', output: await this.steps.run(context.node.type, context) };
  }
}
