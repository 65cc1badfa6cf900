import { Injectable } from '@nestjs/common';
import { defined, Transactions } from '../../core/database/transaction';
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
   * Locks the tenant's chain until the surrounding transaction ends and returns its head, so concurrent
   * appends queue up instead of forking the chain. Must run inside a transaction.
   */
  async lockHead(tenantId: string | null): Promise<{ seq: number; hash: string } | undefined> {
    const manager = this.tx.manager();
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AUDIT_LOCK, tenantId ?? '']);
    const rows: Array<{ seq: string; hash: string }> = await manager.query(
      `SELECT seq, hash FROM audit_events WHERE coalesce(tenant_id, '') = $1 ORDER BY seq DESC LIMIT 1`,
      [tenantId ?? ''],
    );
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : undefined;
  }

  async insert(event: Omit<AuditEventEntity, 'event_id'>): Promise<AuditEventEntity> {
    return this.tx.manager().getRepository(AuditEventEntity).save(event);
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
