import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The shortest interval a plan's cron schedules may fire at: STARTER 5 min, PROFESSIONAL 1 min, SCALE 1 s. */
export class PlanScheduleInterval1764260000000 implements MigrationInterface {
  name = 'PlanScheduleInterval1764260000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE plans ADD COLUMN min_schedule_interval_seconds integer NOT NULL DEFAULT 60`);
    await q.query(`
      UPDATE plans SET min_schedule_interval_seconds = CASE code
        WHEN 'STARTER' THEN 300 WHEN 'PROFESSIONAL' THEN 60 WHEN 'SCALE' THEN 1 ELSE 60 END`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE plans DROP COLUMN min_schedule_interval_seconds`);
  }
}
