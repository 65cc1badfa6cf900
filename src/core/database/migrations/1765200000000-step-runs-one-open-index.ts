import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `step_runs_pending_idx` (status, updated_at) over open steps duplicates `step_runs_open_idx` (updated_at, id)
 * over the same rows, which the reconciler pages through; the only query by status alone (pipeline stages
 * queued, for /pipelines/status) reads the open steps either way. Every step row written kept both up to date.
 */
export class StepRunsOneOpenIndex1765200000000 implements MigrationInterface {
  name = 'StepRunsOneOpenIndex1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX step_runs_pending_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX step_runs_pending_idx ON step_runs (status, updated_at) WHERE status IN ('queued', 'running', 'waiting')`,
    );
  }
}
