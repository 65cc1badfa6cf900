import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { QueryDeepPartialEntity } from 'typeorm';
import { defined, Transactions } from '../../core/database/transaction';
import { WorkflowEntity, type WorkflowStatus } from './entities/workflow.entity';

const FAMILY_LOCK = 7_345_204;

export type WorkflowDraftChanges = Partial<
  Pick<WorkflowEntity, 'name' | 'description' | 'definition' | 'input_schema'>
>;

@Injectable()
export class WorkflowsRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(WorkflowEntity);
  }

  async insert(
    workflow: Omit<
      WorkflowEntity,
      'id' | 'family_id' | 'created_at' | 'updated_at' | 'published_at' | 'package_digest'
    > & { family_id?: string },
  ): Promise<WorkflowEntity> {
    const row = this.repo.create({ ...workflow, published_at: null, package_digest: null });
    if (!workflow.family_id) {
      // A new family: its id is the first version's id (made here: a round trip less than asking Postgres).
      const id = randomUUID();
      row.id = id;
      row.family_id = id;
    }
    // insert, not save: save would first SELECT the row by its (already known) id. The generated columns
    // (id, created_at, updated_at) come back into `row` from the INSERT's RETURNING.
    await this.repo.insert(row as QueryDeepPartialEntity<WorkflowEntity>);
    return row;
  }

  findById(tenantId: string, id: string): Promise<WorkflowEntity | null> {
    return this.repo.findOne({ where: { tenant_id: tenantId, id } });
  }

  list(
    tenantId: string,
    status: WorkflowStatus | undefined,
    offset: number,
    limit: number,
  ): Promise<[WorkflowEntity[], number]> {
    const where = defined({ tenant_id: tenantId, status });
    // The page and the count at once, on two pooled connections (findAndCount runs them one after the other).
    return Promise.all([
      this.repo.find({ where, order: { created_at: 'DESC' }, skip: offset, take: limit }),
      this.repo.count({ where }),
    ]);
  }

  /** Only drafts change: the condition makes a save racing a publish lose, not overwrite. */
  async updateDraft(
    tenantId: string,
    id: string,
    changes: WorkflowDraftChanges,
  ): Promise<WorkflowEntity | undefined> {
    return this.conditionalUpdate(tenantId, id, {
      ...changes,
      updated_at: () => 'now()',
    } as QueryDeepPartialEntity<WorkflowEntity>);
  }

  async publishDraft(tenantId: string, id: string): Promise<WorkflowEntity | undefined> {
    return this.conditionalUpdate(tenantId, id, {
      status: 'published',
      published_at: () => 'now()',
      updated_at: () => 'now()',
    });
  }

  async deleteDraft(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.delete({ tenant_id: tenantId, id, status: 'draft' });
    return (result.affected ?? 0) > 0;
  }

  /** Serialises duplicates of one family until the transaction ends, and gives the next version number. */
  async lockNextVersion(familyId: string): Promise<number> {
    const manager = this.tx.manager();
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FAMILY_LOCK, familyId]);
    const [{ next }] = await manager.query<Array<{ next: number }>>(
      'SELECT coalesce(max(version), 0) + 1 AS next FROM workflows WHERE family_id = $1',
      [familyId],
    );
    return next;
  }

  /** The tenant a public webhook delivery belongs to, from the workflow id it names. */
  async tenantOfForWebhook(id: string): Promise<string | undefined> {
    return (await this.repo.findOne({ where: { id }, select: { tenant_id: true } }))?.tenant_id;
  }

  async statusOf(tenantId: string, id: string): Promise<WorkflowStatus | undefined> {
    return (await this.repo.findOne({ where: { tenant_id: tenantId, id }, select: { status: true } }))
      ?.status;
  }

  private async conditionalUpdate(
    tenantId: string,
    id: string,
    values: QueryDeepPartialEntity<WorkflowEntity>,
  ): Promise<WorkflowEntity | undefined> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set(values)
      .where('tenant_id = :tenantId AND id = :id AND status = :status', { tenantId, id, status: 'draft' })
      .returning('*')
      .execute();
    const row = (result.raw as WorkflowEntity[])[0];
    return row ? this.repo.create(row) : undefined;
  }
}
