import { createHash } from 'node:crypto';
import type { AuditEventEntity } from './entities/audit-event.entity';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth, so a row hashes the same after a JSONB round trip. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

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
