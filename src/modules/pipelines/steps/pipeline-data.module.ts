import { Module } from '@nestjs/common';
import { PipelinesRepository } from '../pipelines.repository';
import { PipelineDryRun } from './pipeline-dry-run';
import { PipelineSteps } from './pipeline-steps.service';

/**
 * The `pipeline.*` steps' data work, the tenant's pipeline-run rows and onboarding's dry run over them (no
 * engine, so the engine and onboarding may import it).
 */
@Module({
  providers: [PipelineSteps, PipelinesRepository, PipelineDryRun],
  exports: [PipelineSteps, PipelinesRepository, PipelineDryRun],
})
export class PipelineDataModule {}
