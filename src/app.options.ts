import type { DynamicModule, Type } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { Env } from './core/config/config.loader';
import type { JobCatalog } from './core/queue/job-catalog';

/** How an API or worker app is composed; production passes nothing, tests pass their env and fixtures. */
export interface AppOptions {
  env?: Env;
  extraJobs?: JobCatalog;
  imports?: Array<Type | DynamicModule>;
  /** Where the JSON log lines go (default stdout). */
  logDestination?: DestinationStream;
}
