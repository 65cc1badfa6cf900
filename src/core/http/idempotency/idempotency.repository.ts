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
   * Tries to own (scope, key) until the surrounding transaction ends, without waiting: false means another
   * request with this key is in flight right now.
   */
  async tryLock(scope: string, key: string): Promise<boolean> {
    const [row] = await this.tx
      .manager()
      .query<Array<{ locked: boolean }>>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked', [
        IDEMPOTENCY_LOCK,
        lockName(scope, key),
      ]);
    return row.locked;
  }

  /**
   * Claims (scope, key) as in progress, inside the caller's transaction, replacing an expired record.
   * Returns undefined when it claimed the key, or the live record that already holds it.
   */
  async claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyRecordEntity | undefined> {
    const manager = this.tx.manager();
    const claimed = await manager.query<unknown[]>(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, status, created_at, expires_at)
       VALUES ($1, $2, $3, 'in_progress', now(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (scope, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status = 'in_progress', response_status = NULL,
             response_body = NULL, created_at = EXCLUDED.created_at, completed_at = NULL, expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
       RETURNING 1`,
      [scope, key, fingerprint, RETENTION_MS],
    );
    if (claimed.length > 0) return undefined;
    return (await this.repo.findOne({ where: { scope, key } })) ?? undefined;
  }

  async complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.repo.update(
      { scope, key },
      {
        status: 'completed',
        response_status: status,
        response_body: (body ?? null) as object,
        completed_at: new Date(),
      },
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
