import { PipelineDataModule } from '../../pipelines/steps/pipeline-data.module';
import type { StepPlugin } from '../step-plugin';
import { PipelineExecutor } from './pipeline.executor';
import { PIPELINE_STEPS } from './pipeline.steps';

export const plugin: StepPlugin = {
  order: 80,
  steps: PIPELINE_STEPS,
  executor: PipelineExecutor,
  imports: [PipelineDataModule],
};
