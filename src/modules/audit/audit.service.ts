import { Injectable } from '@nestjs/common';
import { actorOf } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { EventPublisher } from '../../core/events/event-publisher';
import type { Page } from '../../core/http/pagination';
import { requestContext, type RequestContextStore } from '../../core/tenancy/request-context';
import { auditHash, GENESIS_HASH } from './audit-hash';
import { type AuditFilter, AuditRepository } from './audit.repository';
import type { AuditEventResponse, AuditVerifyResponse } from './dto/audit.dto';
import type { AuditEventEntity } from './entities/audit-event.entity';
import { redactSecrets } from '../../core/redaction/redact';

export interface AuditRecord {
  tenantId: string | null;
  eventType: string;
  resourceType: string;
  resourceId?: string | null;
  details?: Record<string, unknown>;
  sha256?: string;
}

/** An event to record and the request it came from. */
export interface AuditEntry {
  record: AuditRecord;
  context: RequestContextStore | undefined;
}

const VERIFY_BATCH = 1000;

/**
 * The tamper-evident audit log: every mutation appends an event to its tenant's hash chain in the same
 * transaction as the change itself, so an event exists exactly when the change committed.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly tx: Transactions,
    private readonly publisher: EventPublisher,
  ) {}

  /**
   * Appends in the surrounding transaction when there is one; alone, the append is one atomic statement and
   * its announcement follows at once.
   */
  async record(record: AuditRecord): Promise<AuditEventEntity> {
    const [stored] = await this.recordAll([{ record, context: requestContext.getStore() }]);
    return stored;
  }

  /**
   * `record()` for events of one tenant at once, in one statement and one announcement, each with the actor of
   * the request it came from (`context`; none for an event of the platform's own, such as a workflow step's).
   */
  async recordAll(entries: AuditEntry[]): Promise<AuditEventEntity[]> {
    const stored = await this.repository.append(
      entries[0].record.tenantId,
      entries.map(({ record, context }) => ({
        tenant_id: record.tenantId,
        event_type: record.eventType,
        timestamp: new Date(),
        actor: actorOf(context?.principal),
        x_user_id: context?.xUserId ?? null,
        resource_type: record.resourceType,
        resource_id: record.resourceId ?? null,
        details: redactSecrets(record.details ?? {}),
        sha256: record.sha256 ?? null,
      })),
    );
    this.tx.afterCommit(() => void this.announce(stored));
    return stored;
  }

  /** The tenant's `audit` topic hears of events once they committed. */
  private announce(events: AuditEventEntity[]): Promise<void> {
    return this.publisher.publish(
      events.flatMap((event) =>
        event.tenant_id
          ? [
              {
                tenant_id: event.tenant_id,
                topic: 'audit',
                resource_id: event.resource_id ?? event.event_id,
                type: event.event_type,
                seq: event.seq,
                data: { resource_type: event.resource_type, actor: event.actor, details: event.details },
                timestamp: new Date(event.timestamp).toISOString(),
              },
            ]
          : [],
      ),
    );
  }

  async list(
    tenantId: string,
    filter: AuditFilter,
    offset: number,
    limit: number,
  ): Promise<Page<AuditEventResponse>> {
    const [rows, total] = await this.repository.list(tenantId, filter, offset, limit);
    return { items: rows.map(toAuditResponse), total };
  }

  /** Walks the chain from the start; the first event whose link or content does not check out is named. */
  async verify(tenantId: string): Promise<AuditVerifyResponse> {
    let previous = GENESIS_HASH;
    let expectedSeq = 1;
    let checked = 0;
    for (;;) {
      const batch = await this.repository.chainBatch(tenantId, expectedSeq - 1, VERIFY_BATCH);
      for (const event of batch) {
        const reason =
          event.seq !== expectedSeq
            ? `sequence gap: expected ${expectedSeq}, found ${event.seq}`
            : event.prev_hash !== previous
              ? 'prev_hash does not match the previous event'
              : auditHash(event) !== event.hash
                ? 'content does not match its hash'
                : undefined;
        if (reason) {
          return {
            valid: false,
            checked,
            first_broken: { event_id: event.event_id, seq: event.seq, reason },
          };
        }
        previous = event.hash;
        expectedSeq += 1;
        checked += 1;
      }
      if (batch.length < VERIFY_BATCH) return { valid: true, checked, first_broken: null };
    }
  }
}

export function toAuditResponse(event: AuditEventEntity): AuditEventResponse {
  return {
    event_id: event.event_id,
    tenant_id: event.tenant_id,
    seq: event.seq,
    event_type: event.event_type,
    action: event.event_type,
    timestamp: event.timestamp.toISOString(),
    actor: event.actor,
    performed_by: event.actor,
    x_user_id: event.x_user_id,
    resource_type: event.resource_type,
    resource_id: event.resource_id,
    details: event.details,
    metadata: event.details,
    sha256: event.sha256,
    prev_hash: event.prev_hash,
    hash: event.hash,
  };
}
