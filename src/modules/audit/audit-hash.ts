import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/http/canonical-json';
import type { AuditEventEntity } from './entities/audit-event.entity';

export const GENESIS_HASH = '0'.repeat(64);

/** An event before it joins its chain: the chain's head gives its seq, prev_hash and so its hash. */
export type UnchainedAuditEvent = Omit<AuditEventEntity, 'event_id' | 'seq' | 'prev_hash' | 'hash'>;

/** The hashed text of an event, split where the head's hash and the event's seq go. */
export interface AuditHashFrame {
  beforePrev: string;
  beforeSeq: string;
  afterSeq: string;
}

// Stand-ins for the unknown seq and prev_hash. Postgres text and jsonb cannot hold a NUL, so no stored field can
// serialise to them.
const PREV_SLOT = JSON.stringify('\u0000prev_hash');
const SEQ_SLOT = JSON.stringify('\u0000seq');

/** The hash of an event covers every field but the hash itself, including the previous event's hash. */
export function auditHash(event: Omit<AuditEventEntity, 'event_id' | 'hash'>): string {
  return createHash('sha256')
    .update(canonicalJson(covered(event, event.seq, event.prev_hash)))
    .digest('hex');
}

/**
 * The text `auditHash` takes, framed around seq and prev_hash so the statement that reads the chain's head under
 * its lock can complete and hash it: beforePrev + head hash + beforeSeq + seq + afterSeq.
 */
export function auditHashFrame(event: UnchainedAuditEvent): AuditHashFrame {
  const text = canonicalJson(covered(event, '\u0000seq', '\u0000prev_hash'));
  const [beforePrev, rest, ...extraPrev] = text.split(PREV_SLOT);
  const [beforeSeq, afterSeq, ...extraSeq] = (rest ?? '').split(SEQ_SLOT);
  if (afterSeq === undefined || extraPrev.length > 0 || extraSeq.length > 0) {
    throw new Error('an audit event cannot contain a NUL character');
  }
  // The hash is quoted (a JSON string), the seq is not (a JSON number).
  return { beforePrev: `${beforePrev}"`, beforeSeq: `"${beforeSeq}`, afterSeq };
}

function covered(
  event: UnchainedAuditEvent,
  seq: number | string,
  prevHash: string,
): Record<string, unknown> {
  return {
    tenant_id: event.tenant_id,
    seq,
    event_type: event.event_type,
    timestamp: event.timestamp.toISOString(),
    actor: event.actor,
    x_user_id: event.x_user_id,
    resource_type: event.resource_type,
    resource_id: event.resource_id,
    details: event.details,
    sha256: event.sha256,
    prev_hash: prevHash,
  };
}
