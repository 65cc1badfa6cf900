import { type DynamicModule, Module } from '@nestjs/common';
import { LogStore } from './log-store';
import { METRICS_ROLE, MetricSnapshots } from './metric-snapshots';

/**
 * What every process runs (the worker only this, so it loads none of the query APIs): its metrics pushed to Redis
 * for the local fallback, and its logger's kept lines written to the local log store.
 */
@Module({})
export class TelemetryModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: TelemetryModule,
      providers: [{ provide: METRICS_ROLE, useValue: role }, MetricSnapshots, LogStore],
      exports: [MetricSnapshots, LogStore],
    };
  }
}
