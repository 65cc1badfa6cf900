import type { DataSource } from 'typeorm';

// Any constant works; it only has to be the same in every Conflux process.
const MIGRATION_LOCK = 7_345_201;

/**
 * Runs pending migrations under a Postgres advisory lock, so API processes booting together take turns
 * instead of racing on the same DDL. Returns the names of the migrations this call applied.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
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
