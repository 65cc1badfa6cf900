import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appending several events to one audit chain in one statement: `audit_append_all()` is `audit_append()` over
 * arrays (one element per event, in chain order), taking the chain's lock and reading its head once. A batch of
 * N events was N round trips under that lock, and the lock serialises a tenant's appends, so group-committed
 * events (see query-audit.ts) queued behind them. `audit_append()` stays for processes of the previous version
 * during a rolling deploy; both take the same lock.
 */
export class AuditAppendAll1765400000000 implements MigrationInterface {
  name = 'AuditAppendAll1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append_all(
        p_lock_class integer, p_tenant_id text, p_event_types text[], p_timestamps timestamptz[],
        p_actors text[], p_x_user_ids text[], p_resource_types text[], p_resource_ids text[], p_details jsonb[],
        p_sha256s text[], p_before_prev bytea[], p_before_seq bytea[], p_after_seq bytea[]
      ) RETURNS TABLE (event_id uuid, seq bigint, prev_hash text, hash text)
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      DECLARE
        head_seq bigint;
        head_hash text;
        next_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(coalesce(p_tenant_id, '')));
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e
          WHERE coalesce(e.tenant_id, '') = coalesce(p_tenant_id, '') ORDER BY e.seq DESC LIMIT 1;
        IF NOT FOUND THEN -- the chain's first event follows the genesis hash
          head_seq := 0;
          head_hash := repeat('0', 64);
        END IF;
        FOR i IN 1 .. coalesce(array_length(p_event_types, 1), 0) LOOP
          next_hash := encode(sha256(p_before_prev[i] || convert_to(head_hash, 'UTF8') || p_before_seq[i]
                                     || convert_to((head_seq + 1)::text, 'UTF8') || p_after_seq[i]), 'hex');
          RETURN QUERY
            INSERT INTO audit_events AS e (tenant_id, seq, event_type, "timestamp", actor, x_user_id, resource_type,
                                           resource_id, details, sha256, prev_hash, hash)
            VALUES (p_tenant_id, head_seq + 1, p_event_types[i], p_timestamps[i], p_actors[i], p_x_user_ids[i],
                    p_resource_types[i], p_resource_ids[i], p_details[i], p_sha256s[i], head_hash, next_hash)
            RETURNING e.event_id, e.seq, e.prev_hash, e.hash;
          head_seq := head_seq + 1;
          head_hash := next_hash;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION audit_append_all(integer, text, text[], timestamptz[], text[], text[], text[], text[], jsonb[],
                                     text[], bytea[], bytea[], bytea[])`);
  }
}
