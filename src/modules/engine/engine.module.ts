import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WorkflowsModule } from '../workflows/workflows.module';
import { STEP_IMPORTS, STEP_PROVIDERS } from '../steps/executor-registry';
import { ExpressionEvaluator } from '../steps/expressions';
import { EngineService } from './engine.service';
import { RunEventEntity } from './persistence/entities/run-event.entity';
import { RunEntity } from './persistence/entities/run.entity';
import { StepRunEntity } from './persistence/entities/step-run.entity';
import { RunReads } from './persistence/run-reads';
import { RunStore } from './persistence/run-store';
import { RunHooks } from './run-hooks';

/**
 * The run state machine and run persistence, the same in every process: `runs/` (the HTTP facade), triggers and
 * pipelines import it for `EngineService` and the tenant-scoped `RunReads`. `RunStore` (reads and writes by run
 * id, no tenant) is exported for `EngineWorkerModule` only: eslint refuses its import outside src/modules/engine/.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([RunEntity, StepRunEntity, RunEventEntity]),
    WorkflowsModule,
    ...STEP_IMPORTS,
  ],
  providers: [RunStore, RunReads, EngineService, RunHooks, ExpressionEvaluator, ...STEP_PROVIDERS],
  exports: [EngineService, RunHooks, RunReads, RunStore, WorkflowsModule],
})
export class EngineModule {}
