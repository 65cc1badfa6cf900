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
   * Appends events to one chain (`tenantId`'s), in their order, in one statement (see the audit-append-all
   * migration): under the chain's lock, so concurrent appends queue up instead of forking it. Inside a
   * transaction, the lock is held until that transaction ends, so the events commit or roll back with the change
   * they record.
   */
  async append(tenantId: string | null, events: UnchainedAuditEvent[]): Promise<AuditEventEntity[]> {
    if (events.some((event) => event.tenant_id !== tenantId)) {
      throw new Error('one append takes the events of one chain');
    }
    const frames = events.map(auditHashFrame);
    const column = <T>(of: (event: UnchainedAuditEvent) => T) => events.map(of);
    // Every write appends: prepared once per connection.
    const appended = await this.tx.rows<{ event_id: string; seq: string; prev_hash: string; hash: string }>(
      `SELECT event_id, seq, prev_hash, hash
         FROM audit_append_all($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        AUDIT_LOCK,
        tenantId,
        column((e) => e.event_type),
        column((e) => e.timestamp),
        column((e) => e.actor),
        column((e) => e.x_user_id),
        column((e) => e.resource_type),
        column((e) => e.resource_id),
        column((e) => JSON.stringify(e.details)),
        column((e) => e.sha256),
        frames.map((frame) => Buffer.from(frame.beforePrev)),
        frames.map((frame) => Buffer.from(frame.beforeSeq)),
        frames.map((frame) => Buffer.from(frame.afterSeq)),
      ],
      { prepare: true },
    );
    appended.sort((a, b) => Number(a.seq) - Number(b.seq));
    return events.map((event, i) => ({
      ...event,
      event_id: appended[i].event_id,
      seq: Number(appended[i].seq),
      prev_hash: appended[i].prev_hash,
      hash: appended[i].hash,
    }));
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
