import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { Transactions } from '../../core/database/transaction';
import { ApiKeyEntity } from './entities/api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(ApiKeyEntity);
  }

  insert(
    key: Pick<ApiKeyEntity, 'tenant_id' | 'name' | 'role' | 'prefix' | 'key_hash' | 'created_by'>,
  ): Promise<ApiKeyEntity> {
    return this.repo.save(this.repo.create(key));
  }

  list(tenantId: string, offset: number, limit: number): Promise<[ApiKeyEntity[], number]> {
    return this.repo.findAndCount({
      where: { tenant_id: tenantId },
      order: { created_at: 'DESC' },
      skip: offset,
      take: limit,
    });
  }

  /** By lookup prefix, across tenants: this is how a presented key finds its tenant. */
  findLiveByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: { prefix, revoked_at: IsNull() } });
  }

  async revoke(tenantId: string, id: string): Promise<ApiKeyEntity | undefined> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ revoked_at: () => 'now()' })
      .where('id = :id AND tenant_id = :tenantId AND revoked_at IS NULL', { id, tenantId })
      .returning('*')
      .execute();
    return (result.raw as ApiKeyEntity[])[0];
  }

  /** Records use at most once a minute per key, so a busy key does not write on every request. */
  async touch(id: string): Promise<void> {
    await this.tx.manager().query(
      `UPDATE api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }
}
