import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { requestContext } from '../../core/tenancy/request-context';
import { type AuditEntry, type AuditRecord, AuditService } from '../audit/audit.service';

/** `context`: the request the query came from (the event's actor), or none (a workflow step). */
interface Pending extends AuditEntry {
  resolve(): void;
  reject(error: unknown): void;
}

/** Events one transaction commits at most. */
const MAX_BATCH = 200;

/**
 * `data.query` events, group-committed per tenant: a query's answer waits until its event is committed (as a
 * mutation's would), but the queries of one tenant that finish while its previous batch commits share the next
 * transaction. One tenant's audit chain is appended under a lock, so one commit per query would serialise a
 * tenant's concurrent queries on it; one per batch does not. Each tenant's batch is its own transaction, so no
 * batch ever holds two chains' locks.
 */
@Injectable()
export class QueryAuditLog {
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {}

  record(record: AuditRecord): Promise<void> {
    const key = record.tenantId ?? '';
    return new Promise<void>((resolve, reject) => {
      const pending = { record, context: requestContext.getStore(), resolve, reject };
      const queue = this.queues.get(key);
      if (queue) queue.push(pending);
      else {
        this.queues.set(key, [pending]);
        void this.drain(key);
      }
    });
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(key) ?? [];
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 0) {
        this.queues.delete(key);
        return;
      }
      try {
        // Never inside the transaction of whichever caller started the drain: the batch is everyone's. One
        // statement (audit_append_all locks, chains and inserts) committing on its own: one round trip.
        await this.tx.detached(() => this.audit.recordAll(batch));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
