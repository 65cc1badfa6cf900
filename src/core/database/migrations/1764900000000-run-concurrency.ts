import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-tenant run concurrency: a plan's `concurrent_runs` (NULL: no limit) caps the tenant's open top-level runs
 * (sub-workflow runs ride on their root's slot); a run started past it is `held` (pending, no steps) until one
 * ends. STARTER 20, PROFESSIONAL 50, SCALE 200.
 */
export class RunConcurrency1764900000000 implements MigrationInterface {
  name = 'RunConcurrency1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE plans ADD COLUMN concurrent_runs integer CHECK (concurrent_runs IS NULL OR concurrent_runs > 0)`,
    );
    await q.query(`
      UPDATE plans SET concurrent_runs = CASE code
        WHEN 'STARTER' THEN 20 WHEN 'PROFESSIONAL' THEN 50 WHEN 'SCALE' THEN 200 END`);
    await q.query(`ALTER TABLE runs ADD COLUMN held boolean NOT NULL DEFAULT false`);
    await q.query(
      `CREATE INDEX runs_held_idx ON runs (tenant_id, created_at) WHERE held AND status = 'pending'`,
    );
    await q.query(`
      CREATE INDEX runs_open_roots_idx ON runs (tenant_id)
        WHERE status IN ('pending', 'running', 'paused') AND parent_run_id IS NULL AND NOT held`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX runs_open_roots_idx, runs_held_idx`);
    await q.query(`ALTER TABLE runs DROP COLUMN held`);
    await q.query(`ALTER TABLE plans DROP COLUMN concurrent_runs`);
  }
}
