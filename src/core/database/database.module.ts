import { type DynamicModule, Global, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../config/database.config';
import { dataSourceOptions } from './data-source.options';
import { runMigrationsLocked } from './migrate';
import { Transactions } from './transaction';

class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: DatabaseConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.MIGRATIONS_RUN) return;
    const applied = await runMigrationsLocked(this.dataSource, this.config);
    if (applied.length > 0) this.logger.log(`applied ${applied.join(', ')}`);
  }
}

@Global()
@Module({})
export class DatabaseModule {
  /** `runMigrations`: the API migrates at boot (unless MIGRATIONS_RUN=false); workers never do. */
  static forRoot(options: { runMigrations: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [DatabaseConfig],
          useFactory: (config: DatabaseConfig) => ({
            ...dataSourceOptions(config),
            autoLoadEntities: true,
            retryAttempts: 3,
            retryDelay: 1000,
          }),
        }),
      ],
      exports: [Transactions],
      providers: [
        Transactions,
        ...(options.runMigrations
          ? [
              {
                provide: MigrationRunner,
                inject: [DataSource, DatabaseConfig],
                useFactory: (ds: DataSource, c: DatabaseConfig) => new MigrationRunner(ds, c),
              },
            ]
          : []),
      ],
    };
  }
}
