import { type DynamicModule, Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { PipelineRunStatus } from './pipeline-run-status';
import { PipelineStageSweep } from './pipeline-stage-sweep';
import { PipelineStatusController } from './pipeline-status.controller';
import { PipelineStatusRepository } from './pipeline-status.repository';
import { PipelineStatusService } from './pipeline-status.service';
import { PipelinesController } from './pipelines.controller';
import { PipelinesService } from './pipelines.service';
import { PipelineDataModule } from './steps/pipeline-data.module';
import { PipelineTemplates } from './templates/pipeline-templates';

/**
 * Template pipelines. The API admits runs (quotas, templates installed as tenant workflows) and serves them;
 * both processes keep `tenant_pipeline_runs` in step with the engine runs behind them.
 */
@Module({})
export class PipelinesModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: PipelinesModule,
      imports: [EngineModule, PipelineDataModule],
      controllers: role === 'api' ? [PipelinesController, PipelineStatusController] : [],
      providers: [
        PipelineRunStatus,
        ...(role === 'api'
          ? [
              PipelinesService,
              PipelineStatusService,
              PipelineStatusRepository,
              { provide: PipelineTemplates, useFactory: () => PipelineTemplates.load() },
            ]
          : [PipelineStageSweep]),
      ],
    };
  }
}
