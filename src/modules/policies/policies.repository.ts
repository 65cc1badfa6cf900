import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { PolicyEntity } from './entities/policy.entity';

export type PolicyFields = Pick<PolicyEntity, 'name' | 'description' | 'roles' | 'rules' | 'enabled'>;

/** Table `access_policies`; every method takes the tenant id. */
@Injectable()
export class PoliciesRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(PolicyEntity);
  }

  insert(tenantId: string, fields: PolicyFields): Promise<PolicyEntity> {
    return this.repo.save(this.repo.create({ ...fields, tenant_id: tenantId }));
  }

  list(tenantId: string, offset: number, limit: number): Promise<[PolicyEntity[], number]> {
    return this.repo.findAndCount({
      where: { tenant_id: tenantId },
      order: { created_at: 'ASC', name: 'ASC' },
      skip: offset,
      take: limit,
    });
  }

  find(tenantId: string, id: string): Promise<PolicyEntity | null> {
    return this.repo.findOne({ where: { tenant_id: tenantId, id } });
  }

  /** What enforcement reads: the tenant's enabled policies, oldest first (later rules take precedence). */
  enabled(tenantId: string): Promise<PolicyEntity[]> {
    return this.repo.find({
      where: { tenant_id: tenantId, enabled: true },
      order: { created_at: 'ASC', id: 'ASC' },
    });
  }

  async replace(tenantId: string, id: string, fields: PolicyFields): Promise<PolicyEntity | undefined> {
    const [row] = await this.tx.rows<PolicyEntity>(
      `UPDATE access_policies
          SET name = $3, description = $4, roles = $5, rules = $6, enabled = $7, version = version + 1, updated_at = now()
        WHERE tenant_id = $1 AND id = $2
        RETURNING *`,
      [
        tenantId,
        id,
        fields.name,
        fields.description,
        fields.roles,
        JSON.stringify(fields.rules),
        fields.enabled,
      ],
    );
    return row;
  }

  async delete(tenantId: string, id: string): Promise<PolicyEntity | undefined> {
    const [row] = await this.tx.rows<PolicyEntity>(
      'DELETE FROM access_policies WHERE tenant_id = $1 AND id = $2 RETURNING *',
      [tenantId, id],
    );
    return row;
  }
}
