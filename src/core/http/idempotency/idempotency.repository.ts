import { Injectable } from '@nestjs/common';
import { Transactions } from '../../database/transaction';
import { IdempotencyRecordEntity } from './idempotency-record.entity';

export const IDEMPOTENCY_LOCK = 7_345_203;
export const RETENTION_MS = 24 * 3600 * 1000;

@Injectable()
export class IdempotencyRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(IdempotencyRecordEntity);
  }

  /**
   * Tries to own (scope, key) until the surrounding transaction ends, without waiting, and claims it as in
   * progress (replacing an expired record), in one statement. 'in_flight': another request with this key holds
   * it right now; 'claimed': it is ours; otherwise the live record that already holds it.
   */
  async claim(
    scope: string,
    key: string,
    fingerprint: string,
  ): Promise<'in_flight' | 'claimed' | IdempotencyRecordEntity> {
    // The lock CTE is referenced twice, so it is evaluated once, before the INSERT reads it. The INSERT's conflict
    // check sees the latest committed record whatever the statement's snapshot, and the record read below is a
    // statement of its own: both see what the lock's previous holder committed.
    const [row] = await this.tx.manager().query<Array<{ locked: boolean; claimed: boolean }>>(
      `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked),
       claimed AS (
         INSERT INTO idempotency_keys (scope, key, fingerprint, status, created_at, expires_at)
         SELECT $3, $4, $5, 'in_progress', now(), now() + $6 * interval '1 millisecond' FROM lock WHERE locked
         ON CONFLICT (scope, key) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, status = 'in_progress', response_status = NULL,
               response_body = NULL, created_at = EXCLUDED.created_at, completed_at = NULL, expires_at = EXCLUDED.expires_at
           WHERE idempotency_keys.expires_at <= now()
         RETURNING 1
       )
       SELECT (SELECT locked FROM lock) AS locked, EXISTS (SELECT 1 FROM claimed) AS claimed`,
      [IDEMPOTENCY_LOCK, lockName(scope, key), scope, key, fingerprint, RETENTION_MS],
    );
    if (!row.locked) return 'in_flight';
    if (row.claimed) return 'claimed';
    // Gone meanwhile (expired and swept): as good as claimed, as before.
    return (await this.repo.findOne({ where: { scope, key } })) ?? 'claimed';
  }

  async complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.tx.manager().query(
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4, completed_at = now()
       WHERE scope = $1 AND key = $2`,
      [scope, key, status, body === undefined || body === null ? null : JSON.stringify(body)],
    );
  }

  async deleteExpired(): Promise<number> {
    const result = await this.repo.createQueryBuilder().delete().where('expires_at <= now()').execute();
    return result.affected ?? 0;
  }
}

/** Scopes never contain a newline, so this is unambiguous (Postgres text cannot hold the NUL byte). */
export function lockName(scope: string, key: string): string {
  return `${scope}\n${key}`;
}
