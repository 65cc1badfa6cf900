import type { Pool, PoolClient } from 'pg';

/** The raw baselines' transactions: BEGIN, the work, COMMIT (ROLLBACK when it throws), on one pooled client. */
export async function pgTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
