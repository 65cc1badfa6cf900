import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { Env } from './config/config.loader';
import { DatabaseModule } from './database/database.module';
import type { JobCatalog } from './queue/job-catalog';
import { QueueModule } from './queue/queue.module';

export interface CoreOptions {
  role: 'api' | 'worker';
  env?: Env;
  extraJobs?: JobCatalog;
}

/** What every process shares: validated config, the database, Redis and the queue producer. */
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(options.env, options.role),
        DatabaseModule.forRoot({ runMigrations: options.role === 'api' }),
        QueueModule.forRoot({ consume: options.role === 'worker', extraJobs: options.extraJobs }),
      ],
    };
  }
}
