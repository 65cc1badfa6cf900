import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appending to an audit chain in one round trip: `audit_append()` takes the chain's advisory lock, reads the head
 * and inserts the next event, its hash completed from the hashed text the caller framed around the head's seq and
 * hash (see audit-hash.ts). The lock is the one the earlier appends took (same class and key), so processes of
 * either version serialise on it. A VOLATILE plpgsql function runs each statement on a fresh snapshot, so the head
 * read after the lock sees the previous holder's event (a single SELECT would not: its snapshot predates the lock).
 */
export class AuditFastPath1764600000000 implements MigrationInterface {
  name = 'AuditFastPath1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append(
        p_lock_class integer, p_tenant_id text, p_event_type text, p_timestamp timestamptz, p_actor text,
        p_x_user_id text, p_resource_type text, p_resource_id text, p_details jsonb, p_sha256 text,
        p_before_prev bytea, p_before_seq bytea, p_after_seq bytea
      ) RETURNS TABLE (event_id uuid, seq bigint, prev_hash text, hash text)
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      DECLARE
        head_seq bigint;
        head_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(coalesce(p_tenant_id, '')));
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e
          WHERE coalesce(e.tenant_id, '') = coalesce(p_tenant_id, '') ORDER BY e.seq DESC LIMIT 1;
        IF NOT FOUND THEN -- the chain's first event follows the genesis hash
          head_seq := 0;
          head_hash := repeat('0', 64);
        END IF;
        RETURN QUERY
          INSERT INTO audit_events AS e (tenant_id, seq, event_type, "timestamp", actor, x_user_id, resource_type,
                                         resource_id, details, sha256, prev_hash, hash)
          VALUES (p_tenant_id, head_seq + 1, p_event_type, p_timestamp, p_actor, p_x_user_id, p_resource_type,
                  p_resource_id, p_details, p_sha256, head_hash,
                  encode(sha256(p_before_prev || convert_to(head_hash, 'UTF8') || p_before_seq
                                || convert_to((head_seq + 1)::text, 'UTF8') || p_after_seq), 'hex'))
          RETURNING e.event_id, e.seq, e.prev_hash, e.hash;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION audit_append(integer, text, text, timestamptz, text, text, text, text, jsonb, text, bytea, bytea, bytea)`,
    );
  }
}
