import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pipelines: the platform's staging schema, where a pipeline run's `pipeline.extract` copies a billing export
 * as it is (all-text columns) and `pipeline.focus` lays its FOCUS view over it, before `pipeline.load` writes
 * the tenant's own table (tenant roles get nothing here; a run's staging tables are dropped when it ends); the
 * deployment's pipeline settings (one versioned row, `PATCH /config`); and what each pipeline step moved, for
 * `GET /pipeline/status` (kept for a day).
 */
export class Pipelines1764810000000 implements MigrationInterface {
  name = 'Pipelines1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS pipeline_stage`);
    await q.query(`REVOKE ALL ON SCHEMA pipeline_stage FROM PUBLIC`);
    await q.query(`
      CREATE TABLE pipeline_config (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        mode text NOT NULL CHECK (mode IN ('online', 'offline', 'dual')),
        batch_size integer NOT NULL CHECK (batch_size BETWEEN 1 AND 256),
        model text NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text
      )`);
    await q.query(
      `INSERT INTO pipeline_config (mode, batch_size, model, version) VALUES ('online', 32, 'focus-1.2', 1)`,
    );
    await q.query(`
      CREATE TABLE pipeline_stage_stats (
        id bigserial PRIMARY KEY,
        stage text NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now(),
        rows bigint NOT NULL,
        duration_ms integer NOT NULL,
        ok boolean NOT NULL
      )`);
    await q.query(`CREATE INDEX pipeline_stage_stats_finished ON pipeline_stage_stats (finished_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS pipeline_stage_stats`);
    await q.query(`DROP TABLE IF EXISTS pipeline_config`);
    await q.query(`DROP SCHEMA IF EXISTS pipeline_stage CASCADE`);
  }
}
