import { Module } from '@nestjs/common';
import { EngineModule } from '../engine.module';
import { EngineProcessor } from './engine.processor';
import { Reconciler } from './reconciler';
import { RunRetention } from './run-retention';

/** The engine's worker side, imported by the worker process only: step jobs, the reconciler, run retention. */
@Module({
  imports: [EngineModule],
  providers: [EngineProcessor, Reconciler, RunRetention],
})
export class EngineWorkerModule {}
