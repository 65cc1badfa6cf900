import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/http/canonical-json';
import type { AuditEventEntity } from './entities/audit-event.entity';

export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event covers every field but the hash itself, including the previous event's hash. */
export function auditHash(event: Omit<AuditEventEntity, 'event_id' | 'hash'>): string {
  const covered = {
    tenant_id: event.tenant_id,
    seq: event.seq,
    event_type: event.event_type,
    timestamp: event.timestamp.toISOString(),
    actor: event.actor,
    x_user_id: event.x_user_id,
    resource_type: event.resource_type,
    resource_id: event.resource_id,
    details: event.details,
    sha256: event.sha256,
    prev_hash: event.prev_hash,
  };
  return createHash('sha256').update(canonicalJson(covered)).digest('hex');
}
