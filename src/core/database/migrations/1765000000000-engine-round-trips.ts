import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two round trips fewer per engine transition.
 *
 * Sticky execution: a worker that completes a step may claim its single I/O successor in the same transaction and
 * run it under the job it already holds, instead of a queue hop and a claim transaction. `carried_by` names that
 * job (its BullMQ id) on the successor while it runs, so a redelivery of the job finds the step it was carrying,
 * and the reconciler asks BullMQ about that job. NULL: the step's own job delivers it.
 *
 * `engine_lock_run()`: the run's row lock and its steps in one call. The steps must be read after the lock is
 * granted (a query's snapshot predates the wait, so one statement would miss the steps the previous holder
 * committed); a VOLATILE plpgsql function takes a fresh snapshot for each statement, as audit_append() does.
 */
export class EngineRoundTrips1765000000000 implements MigrationInterface {
  name = 'EngineRoundTrips1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE step_runs ADD COLUMN carried_by text`);
    await q.query(`
      CREATE FUNCTION engine_lock_run(p_run_id uuid) RETURNS TABLE (run jsonb, steps jsonb)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        locked jsonb;
      BEGIN
        SELECT to_jsonb(r) INTO locked FROM runs r WHERE r.id = p_run_id FOR UPDATE;
        IF NOT FOUND THEN
          RETURN;
        END IF;
        RETURN QUERY SELECT locked, COALESCE(
          (SELECT jsonb_agg(to_jsonb(s)) FROM step_runs s WHERE s.run_id = p_run_id), '[]'::jsonb);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION engine_lock_run(uuid)`);
    await q.query(`ALTER TABLE step_runs DROP COLUMN carried_by`);
  }
}
