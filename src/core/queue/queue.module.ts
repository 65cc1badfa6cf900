import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventPublisher } from '../events/event-publisher';
import { EventSubscriber } from '../events/event-subscriber';
import { MetricsService } from '../metrics/metrics.service';
import { JOB_CATALOG, JOB_QUEUES, type JobCatalog } from './job-catalog';
import { JobQueue } from './job-queue.service';
import { JobRegistry } from './job-registry';
import { RedisCloser, RedisEvictionCheck, REDIS, redisProvider } from './redis.provider';
import { WorkerHost } from './worker-host.service';

export interface QueueModuleOptions {
  /** Consume queues in this process (the worker) or only produce (the API). */
  consume: boolean;
  /** Extra jobs beyond the catalog's (test fixtures). */
  extraJobs?: JobCatalog;
}

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    const catalog = { provide: JOB_CATALOG, useValue: { ...JOB_QUEUES, ...options.extraJobs } };
    return {
      module: QueueModule,
      imports: options.consume ? [DiscoveryModule] : [],
      providers: [
        redisProvider,
        RedisCloser,
        RedisEvictionCheck,
        catalog,
        JobQueue,
        EventPublisher,
        EventSubscriber,
        MetricsService,
        ...(options.consume ? [JobRegistry, WorkerHost] : []),
      ],
      exports: [REDIS, JobQueue, JOB_CATALOG, EventPublisher, EventSubscriber, MetricsService],
    };
  }
}
