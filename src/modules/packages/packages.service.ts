import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { actorOf, type Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import type { Page } from '../../core/http/pagination';
import { AuditService } from '../audit/audit.service';
import { ObjectKey } from '../storage/object-key';
import { ObjectNotFoundError, ObjectStorage } from '../storage/object-storage';
import { WorkflowsService } from '../workflows/workflows.service';
import type {
  ArtifactResponse,
  DeployResponse,
  ImportDto,
  PackResponse,
  SignResponse,
  SigningKeysResponse,
} from './dto/packages.dto';
import type { ArtifactEntity } from './entities/artifact.entity';
import { PackageSigner } from './package-signer';
import {
  ArtifactNotFoundException,
  ManifestInvalidException,
  PackageRefusedException,
  PackageWorkflowsInvalidException,
} from './packages.exceptions';
import { PackagesMetrics } from './packages.metrics';
import { PackagesRepository } from './packages.repository';
import { ARCHIVE_LIMITS, packArchive, UnsafeArchiveError, unpackArchive } from './wpk-archive';
import { manifestProblems, type WpkManifest } from './wpk-manifest';

const RESOURCE = 'wpk_artifact';
/** The storage bucket artifacts live in, within each tenant. */
export const ARTIFACT_BUCKET = 'packages';

/**
 * Signed workflow packages: pack a manifest into a deterministic archive in object storage, sign its digest,
 * and deploy it: bytes re-read and re-hashed, signature verified against the trusted keys, archive extracted
 * in memory under strict limits, every workflow validated, then all published in one transaction, or none.
 */
@Injectable()
export class PackagesService {
  constructor(
    private readonly repository: PackagesRepository,
    private readonly workflows: WorkflowsService,
    private readonly storage: ObjectStorage,
    private readonly signer: PackageSigner,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    private readonly metrics: PackagesMetrics,
  ) {}

  async pack(tenantId: string, principal: Principal, wpk: unknown): Promise<PackResponse> {
    const manifest = this.manifestOf(wpk);
    await this.assertWorkflowsValid(tenantId, manifest);
    const { artifact, created } = await this.store(
      tenantId,
      principal,
      manifest,
      await packArchive(manifest),
      'wpk.pack',
    );
    this.metrics.packs.inc();
    return {
      artifact_id: artifact.id,
      sha256: artifact.sha256,
      size: artifact.size,
      name: artifact.name,
      version: artifact.version,
      created,
    };
  }

  /**
   * An artifact packed and (optionally) signed elsewhere: its archive is read under the same limits as at
   * deploy and its manifest checked; the workflows are validated, and the signature verified, at deploy.
   */
  async import(tenantId: string, principal: Principal, input: ImportDto): Promise<ArtifactResponse> {
    const bytes = Buffer.from(input.artifact, 'base64');
    const manifest = this.manifestOf(await this.unpack(bytes));
    const signature = input.signature
      ? { signature: input.signature, key_id: input.key_id ?? null, signed_by: actorOf(principal) }
      : undefined;
    const { artifact } = await this.store(tenantId, principal, manifest, bytes, 'wpk.import', signature);
    return toArtifactResponse(artifact);
  }

  sign(tenantId: string, principal: Principal, artifactId: string): Promise<SignResponse> {
    return this.tx.run(async () => {
      const artifact = await this.lock(tenantId, artifactId);
      // Never sign bytes that are not the ones packed: a changed object would get the deployment's blessing.
      await this.readVerified(artifact);
      const { signature, key_id } = this.signer.sign(artifact);
      await this.repository.markSigned(tenantId, artifact.id, {
        signature,
        key_id,
        signed_by: actorOf(principal),
      });
      await this.audit.record({
        tenantId,
        eventType: 'wpk.sign',
        resourceType: RESOURCE,
        resourceId: artifact.id,
        sha256: artifact.sha256,
        details: { name: artifact.name, version: artifact.version, key_id },
      });
      return { signed: true, signature, key_id, artifact_id: artifact.id, sha256: artifact.sha256 };
    });
  }

  async deploy(tenantId: string, principal: Principal, artifactId: string): Promise<DeployResponse> {
    try {
      const response = await this.tx.run(() => this.deployLocked(tenantId, principal, artifactId));
      this.metrics.deployed(response.already_deployed ? 'unchanged' : 'deployed');
      return response;
    } catch (error) {
      if (error instanceof PackageRefusedException) {
        this.metrics.refused(error.reason);
        this.metrics.deployed('refused');
      } else if (
        error instanceof ManifestInvalidException ||
        error instanceof PackageWorkflowsInvalidException
      ) {
        this.metrics.deployed('invalid');
      }
      throw error;
    }
  }

  async list(tenantId: string, offset: number, limit: number): Promise<Page<ArtifactResponse>> {
    const [rows, total] = await this.repository.list(tenantId, offset, limit);
    return { items: rows.map(toArtifactResponse), total };
  }

  async get(tenantId: string, id: string): Promise<ArtifactResponse> {
    const artifact = await this.repository.findById(tenantId, id);
    if (!artifact) throw new ArtifactNotFoundException(id);
    return toArtifactResponse(artifact);
  }

  keys(): SigningKeysResponse {
    return { key_id: this.signer.keyId, trusted: this.signer.trustedKeys() };
  }

  private async deployLocked(
    tenantId: string,
    principal: Principal,
    artifactId: string,
  ): Promise<DeployResponse> {
    const artifact = await this.lock(tenantId, artifactId);
    await this.repository.lockPackage(tenantId, artifact.name);
    const bytes = await this.readVerified(artifact);
    if (!artifact.signature)
      throw new PackageRefusedException(
        'unsigned',
        `Artifact '${artifact.id}' is not signed; sign it first (POST /wpk/sign)`,
      );
    const verified = this.signer.verify(artifact, artifact.signature, artifact.key_id);
    if ('failure' in verified) {
      throw new PackageRefusedException(
        verified.failure,
        verified.failure === 'untrusted_key'
          ? `Artifact '${artifact.id}' is signed by a key this deployment does not trust (${artifact.key_id ?? 'no key id'}); list its public key in WPK_TRUSTED_KEYS`
          : `The signature of artifact '${artifact.id}' does not verify with key ${artifact.key_id ?? ''}`,
        { key_id: artifact.key_id },
      );
    }
    const manifest = this.manifestOf(await this.unpack(bytes));
    if (manifest.name !== artifact.name || manifest.version !== artifact.version)
      throw new PackageRefusedException(
        'unsafe_archive',
        `The archive's manifest does not name ${artifact.name}@${artifact.version}`,
      );
    await this.assertWorkflowsValid(tenantId, manifest);
    const installs = [];
    for (const item of manifest.workflows) {
      const { workflow, installed } = await this.workflows.installFromPackage(tenantId, artifact, item);
      installs.push({
        key: item.key,
        workflow_id: workflow.id,
        name: workflow.name,
        version: workflow.version,
        installed,
      });
    }
    const alreadyDeployed = artifact.deployed_at !== null && installs.every((w) => !w.installed);
    const deployed = await this.repository.markDeployed(tenantId, artifact.id, actorOf(principal));
    if (!alreadyDeployed) {
      await this.audit.record({
        tenantId,
        eventType: 'wpk.deploy',
        resourceType: RESOURCE,
        resourceId: artifact.id,
        sha256: artifact.sha256,
        details: {
          name: artifact.name,
          version: artifact.version,
          key_id: verified.keyId,
          workflows: installs,
        },
      });
    }
    return {
      artifact_id: artifact.id,
      sha256: artifact.sha256,
      name: artifact.name,
      version: artifact.version,
      key_id: verified.keyId,
      deployed_at: new Date(deployed.deployed_at as Date).toISOString(),
      already_deployed: alreadyDeployed,
      workflows: installs,
    };
  }

  /** 422 unless `value` is a WPK manifest. */
  private manifestOf(value: unknown): WpkManifest {
    const problems = manifestProblems(value);
    if (problems.length > 0) throw new ManifestInvalidException(problems);
    return value as WpkManifest;
  }

  /** 400 naming each workflow that would not publish, with its problems. */
  private async assertWorkflowsValid(tenantId: string, manifest: WpkManifest): Promise<void> {
    const invalid = [];
    for (const w of manifest.workflows) {
      const errors = await this.workflows.problemsOf(tenantId, w.definition, w.input_schema ?? null);
      if (errors.length > 0) invalid.push({ key: w.key, errors });
    }
    if (invalid.length > 0) throw new PackageWorkflowsInvalidException(invalid);
  }

  private async unpack(bytes: Buffer): Promise<unknown> {
    try {
      return await unpackArchive(bytes);
    } catch (error) {
      if (error instanceof UnsafeArchiveError)
        throw new PackageRefusedException('unsafe_archive', `The archive is refused: ${error.message}`);
      throw error;
    }
  }

  /**
   * The bytes go to storage first (content-addressed, so rewriting them is harmless), then the row and its
   * audit event commit together: a row always has its bytes.
   */
  private async store(
    tenantId: string,
    principal: Principal,
    manifest: WpkManifest,
    bytes: Buffer,
    eventType: 'wpk.pack' | 'wpk.import',
    signature?: { signature: string; key_id: string | null; signed_by: string },
  ): Promise<{ artifact: ArtifactEntity; created: boolean }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = ObjectKey.of(tenantId, `${ARTIFACT_BUCKET}/${sha256}.tar.gz`);
    await this.storage.put(key, Readable.from([bytes]), { contentType: 'application/gzip' });
    return this.tx.run(async () => {
      const result = await this.repository.insertOrGet({
        tenant_id: tenantId,
        name: manifest.name,
        version: manifest.version,
        description: manifest.description ?? '',
        sha256,
        size: bytes.length,
        object_path: key.path,
        workflow_keys: manifest.workflows.map((w) => w.key),
        created_by: actorOf(principal),
        ...(signature ?? {}),
      });
      if (!result.created && signature && this.mayReplaceSignature(result.artifact, signature))
        result.artifact = await this.repository.markSigned(tenantId, result.artifact.id, signature);
      await this.audit.record({
        tenantId,
        eventType,
        resourceType: RESOURCE,
        resourceId: result.artifact.id,
        sha256,
        details: {
          name: manifest.name,
          version: manifest.version,
          size: bytes.length,
          workflows: manifest.workflows.length,
          created: result.created,
          ...(signature ? { key_id: signature.key_id } : {}),
        },
      });
      return result;
    });
  }

  /**
   * An import of bytes the tenant already has signs them only if they were unsigned or the new signature
   * verifies: a member cannot spoil the signature an owner made.
   */
  private mayReplaceSignature(
    artifact: ArtifactEntity,
    signature: { signature: string; key_id: string | null },
  ): boolean {
    return (
      artifact.signature === null ||
      'keyId' in this.signer.verify(artifact, signature.signature, signature.key_id)
    );
  }

  private async lock(tenantId: string, id: string): Promise<ArtifactEntity> {
    const artifact = await this.repository.lockById(tenantId, id);
    if (!artifact) throw new ArtifactNotFoundException(id);
    return artifact;
  }

  /** The artifact's bytes from storage, refused unless they are the ones recorded (size cap first). */
  private async readVerified(artifact: ArtifactEntity): Promise<Buffer> {
    const key = ObjectKey.of(artifact.tenant_id, artifact.object_path);
    const read = await this.storage.get(key).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError)
        throw new PackageRefusedException(
          'missing_bytes',
          `The bytes of artifact '${artifact.id}' are gone from storage (${artifact.object_path})`,
        );
      throw error;
    });
    if (read.size > ARCHIVE_LIMITS.compressedBytes) {
      read.stream.destroy();
      throw this.tampered(artifact);
    }
    const bytes = await buffer(read.stream);
    if (createHash('sha256').update(bytes).digest('hex') !== artifact.sha256) throw this.tampered(artifact);
    return bytes;
  }

  private tampered(artifact: ArtifactEntity): PackageRefusedException {
    return new PackageRefusedException(
      'digest_mismatch',
      `The stored bytes of artifact '${artifact.id}' no longer hash to its sha256 ${artifact.sha256}: they were changed`,
      { sha256: artifact.sha256 },
    );
  }
}

export function toArtifactResponse(row: ArtifactEntity): ArtifactResponse {
  const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    description: row.description,
    sha256: row.sha256,
    size: row.size,
    signed: row.signature !== null,
    key_id: row.key_id,
    signed_at: iso(row.signed_at),
    object_path: row.object_path,
    workflow_keys: row.workflow_keys,
    created_by: row.created_by,
    created_at: new Date(row.created_at).toISOString(),
    deployed_at: iso(row.deployed_at),
  };
}
