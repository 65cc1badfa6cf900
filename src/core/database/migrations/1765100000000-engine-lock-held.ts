import type { MigrationInterface, QueryRunner } from 'typeorm';

const lockRun = (heldColumn: boolean) => `
  CREATE FUNCTION engine_lock_run(p_run_id uuid)
  RETURNS TABLE (run jsonb, steps jsonb${heldColumn ? ', tenant_has_held boolean' : ''})
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    locked jsonb;
  BEGIN
    SELECT to_jsonb(r) INTO locked FROM runs r WHERE r.id = p_run_id FOR UPDATE;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    RETURN QUERY SELECT locked, COALESCE(
      (SELECT jsonb_agg(to_jsonb(s)) FROM step_runs s WHERE s.run_id = p_run_id), '[]'::jsonb)${
        heldColumn
          ? `,
      EXISTS (SELECT 1 FROM runs h WHERE h.tenant_id = locked->>'tenant_id' AND h.held AND h.status = 'pending')`
          : ''
      };
  END $$`;

/**
 * One round trip fewer when a run ends: `engine_lock_run()` also says whether the run's tenant has held runs
 * (waiting for a concurrent-run slot), which a top-level run's end must admit, instead of a statement of its own
 * at the end (runs_held_idx answers it). A run held after the lock commits after it and looks at the slots
 * again itself; the reconciler catches what both miss, as before.
 */
export class EngineLockHeld1765100000000 implements MigrationInterface {
  name = 'EngineLockHeld1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION engine_lock_run(uuid)`);
    await q.query(lockRun(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION engine_lock_run(uuid)`);
    await q.query(lockRun(false));
  }
}
