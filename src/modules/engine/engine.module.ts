import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunEventEntity } from '../runs/entities/run-event.entity';
import { RunEntity } from '../runs/entities/run.entity';
import { StepRunEntity } from '../runs/entities/step-run.entity';
import { RunsRepository } from '../runs/runs.repository';
import { WorkflowsModule } from '../workflows/workflows.module';
import { EngineProcessor } from './engine.processor';
import { EngineService } from './engine.service';
import { STEP_IMPORTS, STEP_PROVIDERS } from '../steps/executor-registry';
import { ExpressionEvaluator } from '../steps/expressions';
import { Reconciler } from './reconciler';
import { RunHooks } from './run-hooks';
import { RunRetention } from './run-retention';

/** The run state machine for both processes; the worker also gets the step processor and the reconciler. */
@Module({})
export class EngineModule {
  private static readonly byRole = new Map<'api' | 'worker', DynamicModule>();

  /** One module object per role, so every importer (runs, triggers) shares one engine. */
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    const existing = EngineModule.byRole.get(role);
    if (existing) return existing;
    const module: DynamicModule = {
      module: EngineModule,
      imports: [
        TypeOrmModule.forFeature([RunEntity, StepRunEntity, RunEventEntity]),
        WorkflowsModule,
        ...STEP_IMPORTS,
      ],
      providers: [
        RunsRepository,
        EngineService,
        RunHooks,
        ExpressionEvaluator,
        ...STEP_PROVIDERS,
        ...(role === 'worker' ? [EngineProcessor, Reconciler, RunRetention] : []),
      ],
      exports: [EngineService, RunHooks, RunsRepository, WorkflowsModule],
    };
    EngineModule.byRole.set(role, module);
    return module;
  }
}
