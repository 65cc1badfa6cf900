import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { requestContext, type RequestContextStore } from '../../core/tenancy/request-context';
import { type AuditRecord, AuditService } from '../audit/audit.service';

interface Pending {
  record: AuditRecord;
  /** The request the query came from (the event's actor), or none (a workflow step). */
  store: RequestContextStore | undefined;
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
      const pending = { record, store: requestContext.getStore(), resolve, reject };
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
        const append = async ({ record, store }: Pending) => {
          // Each event with its own request's actor, whichever request's turn it is to commit.
          if (store) await requestContext.run(store, () => this.audit.record(record));
          else await requestContext.exit(() => this.audit.record(record));
        };
        // Never inside the transaction of whichever caller started the drain: the batch is everyone's.
        await this.tx.detached(() =>
          // One event is one statement committing on its own (audit_append locks, chains and inserts):
          // one round trip, where BEGIN ... COMMIT around it would be three.
          batch.length === 1
            ? append(batch[0])
            : this.tx.run(async () => {
                for (const pending of batch) await append(pending);
              }),
        );
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
