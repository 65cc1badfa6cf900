import 'reflect-metadata';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { loadConfig } from './core/config/config.loader';
import { DatabaseConfig } from './core/config/database.config';
import { dataSourceOptions } from './core/database/data-source.options';
import { runMigrationsLocked } from './core/database/migrate';
import { StartupError } from './core/startup-error';

/**
 * `node dist/migrate.js`: applies pending migrations and exits (the Kubernetes migration Job runs it before the
 * API and worker replicas roll, so replicas never race on DDL; they run with MIGRATIONS_RUN=false).
 */
async function main(): Promise<void> {
  const config = loadConfig(DatabaseConfig, process.env);
  const dataSource = new DataSource({
    ...dataSourceOptions(config),
    url: config.directUrl,
    extra: { max: 2 },
  } as DataSourceOptions);
  await dataSource.initialize();
  try {
    const applied = await runMigrationsLocked(dataSource);
    console.log(
      applied.length > 0 ? `conflux migrate: applied ${applied.join(', ')}` : 'conflux migrate: up to date',
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof StartupError ? error.message : error);
  process.exit(1);
});
