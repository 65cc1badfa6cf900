import { type DynamicModule, Module } from '@nestjs/common';
import type { AppOptions } from './app.options';
import { CoreModule } from './core/core.module';
import { SecretsModule } from './core/secrets/secrets.module';
import { WorkerMetricsServer } from './core/metrics/worker-metrics.server';
import { IdempotencyModule } from './core/http/idempotency/idempotency.module';
import { AuditModule } from './modules/audit/audit.module';
import { DataModule } from './modules/data/data.module';
import { DocumentsModule } from './modules/documents/documents.module';
import { EngineWorkerModule } from './modules/engine/worker/engine-worker.module';
import { TelemetryModule } from './modules/observability/telemetry.module';
import { PipelinesModule } from './modules/pipelines/pipelines.module';
import { StorageModule } from './modules/storage/storage.module';
import { TriggersModule } from './modules/triggers/triggers.module';

/** The worker process: the shared core, the domain modules and their processors; no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(options: AppOptions = {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot({ role: 'worker', env: options.env, extraJobs: options.extraJobs }),
        IdempotencyModule.forRoot('worker'),
        SecretsModule,
        AuditModule,
        DataModule,
        EngineWorkerModule,
        TriggersModule.forRoot('worker'),
        StorageModule.forRoot('worker'),
        DocumentsModule.forRoot('worker'),
        PipelinesModule.forRoot('worker'),
        TelemetryModule.forRoot('worker'),
        ...(options.imports ?? []),
      ],
      providers: [WorkerMetricsServer],
    };
  }
}
