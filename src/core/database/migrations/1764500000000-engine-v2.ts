import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Engine v2: a step waiting on a child run records the child's idempotency key (the reconciler finds a lost
 * child, or a lost result, from it); children are found by parent; finished runs can be deleted by age
 * (a parent's deletion leaves its children's `parent_run_id` null rather than refusing); the reconciler
 * pages through open steps in (updated_at, id) order.
 */
export class EngineVersionTwo1764500000000 implements MigrationInterface {
  name = 'EngineVersionTwo1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE step_runs ADD COLUMN child_key text`);
    await q.query(`CREATE INDEX runs_parent_idx ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL`);
    await q.query(
      `CREATE INDEX runs_finished_idx ON runs (completed_at) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
    await q.query(`ALTER TABLE runs DROP CONSTRAINT runs_parent_run_id_fkey`);
    await q.query(
      `ALTER TABLE runs ADD CONSTRAINT runs_parent_run_id_fkey FOREIGN KEY (parent_run_id) REFERENCES runs (id) ON DELETE SET NULL`,
    );
    await q.query(
      `CREATE INDEX step_runs_open_idx ON step_runs (updated_at, id) WHERE status IN ('queued', 'running', 'waiting')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX step_runs_open_idx`);
    await q.query(`ALTER TABLE runs DROP CONSTRAINT runs_parent_run_id_fkey`);
    await q.query(
      `ALTER TABLE runs ADD CONSTRAINT runs_parent_run_id_fkey FOREIGN KEY (parent_run_id) REFERENCES runs (id)`,
    );
    await q.query(`DROP INDEX runs_finished_idx`);
    await q.query(`DROP INDEX runs_parent_idx`);
    await q.query(`ALTER TABLE step_runs DROP COLUMN child_key`);
  }
}
