import { type SecretCipher, webhookSecretContext } from './secret-cipher';

/** A column holding sealed secrets, and the associated data each row's value is bound to. */
export interface SealedColumn {
  table: string;
  id: string;
  column: string;
  context(id: string): string;
}

/** Every column of secrets at rest: what the migration seals and `npm run secrets:rotate` re-seals. */
export const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'webhook_secrets', id: 'workflow_id', column: 'secret', context: webhookSecretContext },
];

export interface ResealReport {
  table: string;
  /** Values (re-)sealed under the current key: plaintext rows and rows under a previous key. */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** Ids of rows no key of the ring opens (sealed under a key that is not configured): left as they are. */
  unreadable: string[];
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * Seals plaintext values and re-seals values under a previous key with the current one. Each row is replaced only
 * if it still holds the value read (a secret rotated meanwhile by its owner is left alone), so it is safe to run
 * while the API serves.
 */
export async function resealColumns(
  query: Query,
  cipher: SecretCipher,
  columns: SealedColumn[] = SEALED_COLUMNS,
): Promise<ResealReport[]> {
  const reports: ResealReport[] = [];
  for (const target of columns) {
    const report: ResealReport = { table: target.table, resealed: 0, current: 0, unreadable: [] };
    const rows = (await query(
      `SELECT ${target.id} AS id, ${target.column} AS value FROM ${target.table}`,
    )) as Array<{
      id: string;
      value: string;
    }>;
    for (const row of rows) {
      if (!cipher.isStale(row.value)) {
        report.current++;
        continue;
      }
      const context = target.context(row.id);
      const plain = cipher.isSealed(row.value) ? cipher.open(row.value, context) : row.value;
      if (plain === undefined) {
        report.unreadable.push(row.id);
        continue;
      }
      await query(
        `UPDATE ${target.table} SET ${target.column} = $1 WHERE ${target.id} = $2 AND ${target.column} = $3`,
        [cipher.seal(plain, context), row.id, row.value],
      );
      report.resealed++;
    }
    reports.push(report);
  }
  return reports;
}
