import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The X-Request-ID of the call that started a run, so the engine's log lines lead back to that call. */
export class RunRequestId1764250000000 implements MigrationInterface {
  name = 'RunRequestId1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN request_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs DROP COLUMN request_id`);
  }
}
