import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import { dataSourceOptions } from './data-source.options';

// Any constant works; it only has to be the same in every Conflux process.
const MIGRATION_LOCK = 7_345_201;

/**
 * Runs pending migrations under a Postgres advisory lock, so API processes booting together take turns
 * instead of racing on the same DDL. Returns the names of the migrations this call applied. The lock is a
 * session lock, so with DATABASE_DIRECT_URL set (DATABASE_URL being PgBouncer in transaction mode) the
 * migrations run on a connection of their own to the direct URL.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  config?: DatabaseConfig,
): Promise<string[]> {
  if (!config?.DATABASE_DIRECT_URL) return migrateUnderLock(dataSource);
  const direct = new DataSource({
    ...dataSourceOptions(config),
    url: config.DATABASE_DIRECT_URL,
    extra: { max: 2, application_name: 'conflux-migrate' },
  } as DataSourceOptions);
  await direct.initialize();
  try {
    return await migrateUnderLock(direct);
  } finally {
    await direct.destroy();
  }
}

async function migrateUnderLock(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
