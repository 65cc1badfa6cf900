import { Injectable } from '@nestjs/common';
import type { QueryDeepPartialEntity } from 'typeorm';
import { Transactions } from '../../core/database/transaction';
import { PlanEntity } from './entities/plan.entity';
import { TenantEntity } from './entities/tenant.entity';

export type TenantChanges = Partial<Pick<TenantEntity, 'name' | 'state' | 'plan_code' | 'config'>>;

@Injectable()
export class TenantsRepository {
  constructor(private readonly tx: Transactions) {}

  private get tenants() {
    return this.tx.manager().getRepository(TenantEntity);
  }

  insert(tenant: Pick<TenantEntity, 'id' | 'name' | 'plan_code'>): Promise<TenantEntity> {
    return this.tenants.save(this.tenants.create(tenant));
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.tenants.findOne({ where: { id } });
  }

  /** Every tenant, or only `onlyId` (a tenant principal lists itself). */
  list(offset: number, limit: number, onlyId?: string): Promise<[TenantEntity[], number]> {
    return this.tenants.findAndCount({
      where: onlyId ? { id: onlyId } : {},
      order: { created_at: 'ASC' },
      skip: offset,
      take: limit,
    });
  }

  plan(code: string): Promise<PlanEntity | null> {
    return this.tx.manager().getRepository(PlanEntity).findOne({ where: { code } });
  }

  /**
   * Applies the changes; a config change bumps config_version and only applies when `expectedVersion`
   * is still current. Returns the row, or undefined when the tenant is gone or the version moved on.
   */
  async update(
    id: string,
    changes: TenantChanges,
    expectedVersion?: number,
  ): Promise<TenantEntity | undefined> {
    // jsonb values are opaque to TypeORM's deep-partial type, hence the declared shape.
    const values = {
      ...changes,
      updated_at: () => 'now()',
      ...(changes.config ? { config_version: () => 'config_version + 1' } : {}),
    } as QueryDeepPartialEntity<TenantEntity>;
    const query = this.tenants.createQueryBuilder().update().set(values).where('id = :id', { id });
    if (expectedVersion !== undefined)
      query.andWhere('config_version = :expectedVersion', { expectedVersion });
    const result = await query.returning('*').execute();
    const row = (result.raw as TenantEntity[])[0];
    return row ? this.tenants.create(row) : undefined;
  }
}
