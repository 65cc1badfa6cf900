import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { ArtifactEntity } from './entities/artifact.entity';

const PACKAGE_LOCK = 7_345_217;

export type NewArtifact = Omit<
  ArtifactEntity,
  'id' | 'created_at' | 'signature' | 'key_id' | 'signed_by' | 'signed_at' | 'deployed_by' | 'deployed_at'
> &
  Partial<Pick<ArtifactEntity, 'signature' | 'key_id' | 'signed_by'>>;

@Injectable()
export class PackagesRepository {
  constructor(private readonly tx: Transactions) {}

  private get repo() {
    return this.tx.manager().getRepository(ArtifactEntity);
  }

  /**
   * The tenant's artifact with these bytes: inserted, or the one already there (packing the same manifest twice
   * answers with the first artifact, its signature and deployment intact).
   */
  async insertOrGet(artifact: NewArtifact): Promise<{ artifact: ArtifactEntity; created: boolean }> {
    const [inserted] = await this.tx.rows<ArtifactEntity>(
      `INSERT INTO wpk_artifacts (id, tenant_id, name, version, description, sha256, size, object_path, workflow_keys,
                                  created_by, signature, key_id, signed_by, signed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $11::text IS NULL THEN NULL ELSE now() END)
       ON CONFLICT (tenant_id, sha256) DO NOTHING RETURNING *`,
      [
        randomUUID(),
        artifact.tenant_id,
        artifact.name,
        artifact.version,
        artifact.description,
        artifact.sha256,
        artifact.size,
        artifact.object_path,
        artifact.workflow_keys,
        artifact.created_by,
        artifact.signature ?? null,
        artifact.key_id ?? null,
        artifact.signed_by ?? null,
      ],
    );
    if (inserted) return { artifact: this.repo.create(inserted), created: true };
    const existing = await this.repo.findOneOrFail({
      where: { tenant_id: artifact.tenant_id, sha256: artifact.sha256 },
    });
    return { artifact: existing, created: false };
  }

  findById(tenantId: string, id: string): Promise<ArtifactEntity | null> {
    return this.repo.findOne({ where: { tenant_id: tenantId, id } });
  }

  /** The row, locked until the transaction ends: signs and deploys of one artifact take turns. */
  lockById(tenantId: string, id: string): Promise<ArtifactEntity | null> {
    return this.repo.findOne({ where: { tenant_id: tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Serialises deploys of one package name within the tenant (whichever artifact), until the transaction ends. */
  async lockPackage(tenantId: string, name: string): Promise<void> {
    await this.tx
      .manager()
      .query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PACKAGE_LOCK, `${tenantId}/${name}`]);
  }

  list(tenantId: string, offset: number, limit: number): Promise<[ArtifactEntity[], number]> {
    return this.repo.findAndCount({
      where: { tenant_id: tenantId },
      order: { created_at: 'DESC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
  }

  async markSigned(
    tenantId: string,
    id: string,
    signature: { signature: string; key_id: string | null; signed_by: string },
  ): Promise<ArtifactEntity> {
    const [row] = await this.tx.rows<ArtifactEntity>(
      `UPDATE wpk_artifacts SET signature = $3, key_id = $4, signed_by = $5, signed_at = now()
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, signature.signature, signature.key_id, signature.signed_by],
    );
    return this.repo.create(row);
  }

  /** Records the first deployment; a later one keeps the original time and deployer. */
  async markDeployed(tenantId: string, id: string, deployedBy: string): Promise<ArtifactEntity> {
    const [row] = await this.tx.rows<ArtifactEntity>(
      `UPDATE wpk_artifacts SET deployed_at = coalesce(deployed_at, now()), deployed_by = coalesce(deployed_by, $3)
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, deployedBy],
    );
    return this.repo.create(row);
  }
}
