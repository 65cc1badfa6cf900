import { Module } from '@nestjs/common';
import { PipelineSteps } from './pipeline-steps.service';

/** What the `pipeline.*` step executor needs: the steps' data work (no engine, so the engine may import it). */
@Module({ providers: [PipelineSteps], exports: [PipelineSteps] })
export class PipelineDataModule {}
