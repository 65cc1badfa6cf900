import { Injectable } from '@nestjs/common';
import { defined, Transactions } from '../../core/database/transaction';
import { auditHashFrame, type UnchainedAuditEvent } from './audit-hash';
import { AuditEventEntity } from './entities/audit-event.entity';

// Advisory lock class for audit chains: the second key is the tenant's hash.
const AUDIT_LOCK = 7_345_202;

export interface AuditFilter {
  resource_type?: string;
  resource_id?: string;
}

/** Chains are keyed by tenant; `null` is the platform chain. */
@Injectable()
export class AuditRepository {
  constructor(private readonly tx: Transactions) {}

  /**
   * Appends the event to its tenant's chain in one statement (see the audit-fast-path migration): under the
   * chain's lock, so concurrent appends queue up instead of forking it. Inside a transaction, the lock is held
   * until that transaction ends, so the event commits or rolls back with the change it records.
   */
  async append(event: UnchainedAuditEvent): Promise<AuditEventEntity> {
    const frame = auditHashFrame(event);
    // Every write appends one: prepared once per connection.
    const [appended] = await this.tx.rows<{ event_id: string; seq: string; prev_hash: string; hash: string }>(
      `SELECT event_id, seq, prev_hash, hash
         FROM audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        AUDIT_LOCK,
        event.tenant_id,
        event.event_type,
        event.timestamp,
        event.actor,
        event.x_user_id,
        event.resource_type,
        event.resource_id,
        JSON.stringify(event.details),
        event.sha256,
        Buffer.from(frame.beforePrev),
        Buffer.from(frame.beforeSeq),
        Buffer.from(frame.afterSeq),
      ],
      { prepare: true },
    );
    return {
      ...event,
      event_id: appended.event_id,
      seq: Number(appended.seq),
      prev_hash: appended.prev_hash,
      hash: appended.hash,
    };
  }

  async list(
    tenantId: string,
    filter: AuditFilter,
    offset: number,
    limit: number,
  ): Promise<[AuditEventEntity[], number]> {
    return this.tx
      .manager()
      .getRepository(AuditEventEntity)
      .findAndCount({
        where: defined({ tenant_id: tenantId, ...filter }),
        order: { seq: 'DESC' },
        skip: offset,
        take: limit,
      });
  }

  /** The chain in order, a batch at a time (a long chain is never loaded whole). */
  async chainBatch(tenantId: string, afterSeq: number, size: number): Promise<AuditEventEntity[]> {
    return this.tx
      .manager()
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .where('e.tenant_id = :tenantId AND e.seq > :afterSeq', { tenantId, afterSeq })
      .orderBy('e.seq', 'ASC')
      .limit(size)
      .getMany();
  }
}
