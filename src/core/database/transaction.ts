import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { PoolClient, QueryResultRow } from 'pg';
import { DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import { DatabaseConfig } from '../config/database.config';

/**
 * Prepared statements' names: the same text, the same name, on every connection. A name gets a new generation
 * when PostgreSQL refuses its plan because a table changed shape under it (a migration on a rolling deploy: `SELECT
 * *` "cached plan must not change result type"), so the next call prepares it afresh instead of failing forever.
 */
const statementNames = new Map<string, string>();
let generation = 0;
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `cfx${generation}_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}
const STALE_PLAN = '0A000';

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
  /** Behind a transaction-mode pooler (DATABASE_DIRECT_URL set) a statement prepared on one connection is not on the next. */
  private readonly preparedStatements: boolean;

  constructor(
    private readonly dataSource: DataSource,
    config: DatabaseConfig,
  ) {
    this.preparedStatements = !config.DATABASE_DIRECT_URL;
  }

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
   * `run()` whose first statement travels with its BEGIN, in one round trip (a multi-statement simple query):
   * `opening` takes no parameters, so nothing goes in it but text the caller has checked. Its rows go to `work`.
   * Joined to a surrounding transaction, it is that one's next statement.
   */
  async runOpening<R, T>(opening: string, work: (rows: R[]) => Promise<T>): Promise<T> {
    if (current.getStore()) return work(await this.rows<R>(opening));
    const runner = this.dataSource.createQueryRunner();
    const afterCommit: Array<() => void | Promise<void>> = [];
    let result: T;
    try {
      const client = (await runner.connect()) as PoolClient;
      // What startTransaction() sets: TypeORM's own writes in `work` join this transaction, and its commit and
      // rollback end it.
      Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
      const results = (await client.query(`BEGIN; ${opening}`)) as unknown as Array<{ rows: R[] }>;
      result = await current.run({ manager: runner.manager, afterCommit }, () => work(results[1].rows));
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    for (const hook of afterCommit) await hook();
    return result;
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
   * `[rows, count]` instead), in the surrounding transaction when there is one. `prepare`: a statement the hot
   * path runs over and over, parsed and planned once per connection (a named prepared statement) instead of on
   * every call (the engine's: 3.1 -> 2.1 ms of PostgreSQL CPU per run in bench:engine). Only for SQL from a fixed
   * set of texts, nothing spliced in: each distinct text stays prepared on every connection that ran it.
   */
  async rows<T>(sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    const inside = current.getStore()?.manager.queryRunner;
    const runner = inside ?? this.dataSource.createQueryRunner();
    try {
      if (options.prepare && this.preparedStatements) {
        const client = (await runner.connect()) as PoolClient;
        try {
          const name = statementName(sql);
          return (await client.query<T & QueryResultRow>({ name, text: sql, values: params })).rows;
        } catch (error) {
          if ((error as { code?: string }).code === STALE_PLAN) {
            generation += 1;
            statementNames.clear();
          }
          throw new QueryFailedError(sql, params, error as Error);
        }
      }
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
