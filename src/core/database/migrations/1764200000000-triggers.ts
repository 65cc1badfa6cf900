import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhook secrets (one per workflow) and cron schedules (one per workflow). */
export class Triggers1764200000000 implements MigrationInterface {
  name = 'Triggers1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_secrets (
        workflow_id uuid PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        workflow_id uuid NOT NULL UNIQUE REFERENCES workflows (id) ON DELETE CASCADE,
        cron text NOT NULL,
        timezone text NOT NULL DEFAULT 'UTC',
        input jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX schedules_tenant_idx ON schedules (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE schedules, webhook_secrets`);
  }
}
