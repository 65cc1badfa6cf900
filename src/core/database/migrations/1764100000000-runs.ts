import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs, their steps and their event log. Postgres is the source of truth of the engine: BullMQ only delivers
 * the work these rows describe.
 */
export class Runs1764100000000 implements MigrationInterface {
  name = 'Runs1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        workflow_id uuid NOT NULL REFERENCES workflows (id),
        workflow_version integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')),
        trigger_type text NOT NULL,
        input jsonb NOT NULL DEFAULT '{}',
        context jsonb NOT NULL DEFAULT '{}',
        error text,
        idempotency_key text,
        parent_run_id uuid REFERENCES runs (id),
        parent_step_id text,
        next_seq integer NOT NULL DEFAULT 0,
        started_at timestamptz,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX runs_idempotency_key ON runs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX runs_tenant_idx ON runs (tenant_id, created_at DESC)`);
    await q.query(`CREATE INDEX runs_workflow_idx ON runs (tenant_id, workflow_id, created_at DESC)`);
    await q.query(
      `CREATE INDEX runs_active_idx ON runs (status) WHERE status IN ('pending', 'running', 'paused')`,
    );
    await q.query(`
      CREATE TABLE step_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        step_id text NOT NULL,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
        attempt integer NOT NULL DEFAULT 1,
        output jsonb,
        error text,
        not_before timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (run_id, step_id)
      )`);
    await q.query(
      `CREATE INDEX step_runs_pending_idx ON step_runs (status, updated_at) WHERE status IN ('queued', 'running', 'waiting')`,
    );
    await q.query(`
      CREATE TABLE run_events (
        run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        event_type text NOT NULL,
        step_id text,
        data jsonb NOT NULL DEFAULT '{}',
        "timestamp" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, seq)
      )`);
    // A step is recorded complete once: a second completion cannot be written, whatever raced.
    await q.query(
      `CREATE UNIQUE INDEX run_events_step_completed ON run_events (run_id, step_id) WHERE event_type = 'step.completed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_events, step_runs, runs`);
  }
}
