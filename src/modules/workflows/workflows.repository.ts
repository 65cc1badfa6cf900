import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { QueryDeepPartialEntity } from 'typeorm';
import { defined, Transactions } from '../../core/database/transaction';
import { WorkflowEntity, type WorkflowStatus } from './entities/workflow.entity';

const FAMILY_LOCK = 7_345_204;

export type WorkflowDraftChanges = Partial<
  Pick<WorkflowEntity, 'name' | 'description' | 'definition' | 'input_schema' | 'tags'>
>;

/** Where a workflow deployed from a package came from (all null for one made in the editor). */
export type PackageColumns = Pick<
  WorkflowEntity,
  'package_sha256' | 'package_name' | 'package_version' | 'package_key'
>;

const NO_PACKAGE: PackageColumns = {
  package_sha256: null,
  package_name: null,
  package_version: null,
  package_key: null,
};

@Injectable()
export class WorkflowsRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(WorkflowEntity);
  }

  /** A row inserted as `published` is published now (packages deploy that way). */
  async insert(
    workflow: Omit<
      WorkflowEntity,
      'id' | 'family_id' | 'created_at' | 'updated_at' | 'published_at' | 'tags' | keyof PackageColumns
    > & { family_id?: string; tags?: string[] } & Partial<PackageColumns>,
  ): Promise<WorkflowEntity> {
    // Made here, a round trip less than asking Postgres; a new family's id is its first version's id.
    const id = randomUUID();
    const row = { ...NO_PACKAGE, tags: [], ...workflow, id, family_id: workflow.family_id ?? id };
    // Raw SQL on the write path: a TypeORM insert costs more in building the statement than in running it.
    const [{ created_at, updated_at, published_at }] = await this.tx
      .manager()
      .query<Array<Pick<WorkflowEntity, 'created_at' | 'updated_at' | 'published_at'>>>(
        `INSERT INTO workflows (id, tenant_id, family_id, name, description, version, status, definition, input_schema,
                                published_at, package_sha256, package_name, package_version, package_key, tags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7::text = 'published' THEN now() END,
                 $10, $11, $12, $13, $14)
         RETURNING created_at, updated_at, published_at`,
        [
          row.id,
          row.tenant_id,
          row.family_id,
          row.name,
          row.description,
          row.version,
          row.status,
          JSON.stringify(row.definition),
          row.input_schema === null ? null : JSON.stringify(row.input_schema),
          row.package_sha256,
          row.package_name,
          row.package_version,
          row.package_key,
          row.tags,
        ],
      );
    return { ...row, created_at, updated_at, published_at };
  }

  /**
   * The newest version of the tenant's workflow that package `name` installs under `key`; with `sha256`, the
   * newest one installed from that package digest.
   */
  fromPackage(
    tenantId: string,
    packageName: string,
    packageKey: string,
    sha256?: string,
  ): Promise<WorkflowEntity | null> {
    return this.repo.findOne({
      where: defined({
        tenant_id: tenantId,
        package_name: packageName,
        package_key: packageKey,
        package_sha256: sha256,
      }),
      order: { version: 'DESC' },
    });
  }

  /** One statement as written (every run start reads its workflow: TypeORM's query building cost 0.2 ms a call). */
  async findById(tenantId: string, id: string): Promise<WorkflowEntity | null> {
    const [row] = await this.tx.rows<WorkflowEntity>(
      'SELECT * FROM workflows WHERE tenant_id = $1 AND id = $2',
      [tenantId, id],
      { prepare: true },
    );
    return row ? Object.assign(new WorkflowEntity(), row) : null;
  }

  /**
   * The page and the total in one statement (`count(*) OVER ()`), so a list costs one round trip and one pooled
   * connection; only a page past the end, which has no row to carry the total, counts separately.
   */
  async list(
    tenantId: string,
    status: WorkflowStatus | undefined,
    offset: number,
    limit: number,
  ): Promise<[WorkflowEntity[], number]> {
    const rows = await this.tx.rows<WorkflowEntity & { total_count: string }>(
      `SELECT *, count(*) OVER () AS total_count FROM workflows
        WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC LIMIT $3 OFFSET $4`,
      [tenantId, status ?? null, limit, offset],
      { prepare: true },
    );
    if (rows.length === 0 && offset > 0)
      return [[], await this.repo.count({ where: defined({ tenant_id: tenantId, status }) })];
    const total = Number(rows[0]?.total_count ?? 0);
    return [rows.map(({ total_count: _total, ...row }) => Object.assign(new WorkflowEntity(), row)), total];
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
