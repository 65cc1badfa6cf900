import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';

interface Unit {
  manager: EntityManager;
  /** Run once the outermost transaction has committed, in order; dropped on rollback. */
  afterCommit: Array<() => void | Promise<void>>;
}

const current = new AsyncLocalStorage<Unit>();

/**
 * Units of work without threading an EntityManager through every call: repositories ask `manager()`, which
 * is the surrounding transaction's when there is one. `run()` joins an outer transaction rather than
 * nesting, so a service, the audit log and (later) an idempotency record commit or roll back together.
 */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    if (current.getStore()) return work();
    const afterCommit: Array<() => void | Promise<void>> = [];
    return this.dataSource
      .transaction((manager) => current.run({ manager, afterCommit }, work))
      .then(async (result) => {
        for (const hook of afterCommit) await hook();
        return result;
      });
  }

  /**
   * `hook` runs when the outermost surrounding transaction commits (never if it rolls back), and that `run()`
   * resolves once it is done; outside a transaction it runs at once.
   */
  afterCommit(hook: () => void | Promise<void>): void {
    const unit = current.getStore();
    if (unit) unit.afterCommit.push(hook);
    else void hook();
  }

  /**
   * `work` outside any surrounding transaction: what it writes commits on its own, whatever that transaction
   * does (an audited refusal, recorded just before the refusal rolls the request back).
   */
  detached<T>(work: () => Promise<T>): Promise<T> {
    return current.exit(work);
  }

  manager(): EntityManager {
    return current.getStore()?.manager ?? this.dataSource.manager;
  }

  /**
   * Raw SQL that always answers with the rows (TypeORM's `query()` answers UPDATE/DELETE ... RETURNING with
   * `[rows, count]` instead), in the surrounding transaction when there is one.
   */
  async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const inside = current.getStore()?.manager.queryRunner;
    const runner = inside ?? this.dataSource.createQueryRunner();
    try {
      return ((await runner.query(sql, params, true)) as { records: T[] }).records;
    } finally {
      if (!inside) await runner.release();
    }
  }

  /** The surrounding transaction's own connection, for COPY and cursors (which TypeORM does not wrap). */
  async client(): Promise<PoolClient> {
    const runner = current.getStore()?.manager.queryRunner;
    if (!runner) throw new Error('a COPY or a cursor needs a transaction');
    return (await runner.connect()) as PoolClient;
  }

  inTransaction(): boolean {
    return current.getStore() !== undefined;
  }
}

/** Drops undefined entries: TypeORM 1.x refuses `undefined` in where criteria (instead of matching everything). */
export function defined<T extends Record<string, unknown>>(
  criteria: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(criteria).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
