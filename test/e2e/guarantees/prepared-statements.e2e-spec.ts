import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import type { DatabaseConfig } from '../../../src/core/config/database.config';
import { Transactions } from '../../../src/core/database/transaction';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

// The engine's statements run as named prepared statements (parsed and planned once per connection). Shown on a
// real PostgreSQL: they are prepared, a table changing shape under them costs one failed call and no more, and
// behind a transaction-mode pooler (DATABASE_DIRECT_URL set) nothing is prepared.
let backends: TestBackends;
let api: RunningApi;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  await db.query('CREATE TABLE prepared_probe (id int PRIMARY KEY, label text)');
  await db.query("INSERT INTO prepared_probe VALUES (1, 'one')");
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

const PROBE = 'SELECT * FROM prepared_probe WHERE id = $1';

/** The statements prepared on the connection `tx` runs on, read on that same connection. */
async function preparedOn(tx: Transactions, sql: string, params: unknown[]): Promise<string[]> {
  return tx.run(async () => {
    await tx.rows(sql, params, { prepare: true });
    const rows = await tx.rows<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
    return rows.map((row) => row.statement);
  });
}

describe('prepared statements', () => {
  it('prepares a statement once per connection and answers as an unprepared one does', async () => {
    const tx = api.app.get(Transactions);
    expect(await preparedOn(tx, 'SELECT $1::int + 1 AS n', [41])).toContain('SELECT $1::int + 1 AS n');
    expect(await tx.rows('SELECT $1::int + 1 AS n', [41], { prepare: true })).toEqual([{ n: 42 }]);
    await expect(tx.rows('SELECT * FROM no_such_table', [], { prepare: true })).rejects.toBeInstanceOf(
      QueryFailedError,
    );
  });

  it('survives a table changing shape under a prepared SELECT *: at most one failed call, then the new shape', async () => {
    const tx = api.app.get(Transactions);
    // Prepared on every connection of the pool.
    await Promise.all(Array.from({ length: 12 }, () => tx.rows(PROBE, [1], { prepare: true })));
    await db.query('ALTER TABLE prepared_probe ADD COLUMN extra text');
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      outcomes.push(
        await tx.rows<Record<string, unknown>>(PROBE, [1], { prepare: true }).then(
          ([row]) => ('extra' in row ? 'new shape' : 'old shape'),
          (error: QueryFailedError & { driverError: { code?: string } }) =>
            `failed ${error.driverError.code}`,
        ),
      );
    }
    // The first call may meet the old plan (0A000: "cached plan must not change result type"); none after it.
    expect(['failed 0A000', 'new shape']).toContain(outcomes[0]);
    expect(outcomes.slice(1)).toEqual(Array.from({ length: 11 }, () => 'new shape'));
  });

  it('prepares nothing behind a transaction-mode pooler (DATABASE_DIRECT_URL set)', async () => {
    const pooled = new Transactions(api.app.get(DataSource), {
      DATABASE_DIRECT_URL: backends.databaseUrl,
    } as DatabaseConfig);
    expect(await preparedOn(pooled, 'SELECT $1::int * 2 AS pooled', [21])).not.toContain(
      'SELECT $1::int * 2 AS pooled',
    );
  });
});
