import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InsufficientPermissionsException } from '../../core/auth/auth.exceptions';
import { actorOf, hasRole, type Principal } from '../../core/auth/principal';
import { StorageConfig } from '../../core/config/storage.config';
import { Transactions } from '../../core/database/transaction';
import { AuditService } from '../audit/audit.service';
import {
  type BucketPage,
  DEFAULT_EXPIRES_IN,
  type DeletedObjectResponse,
  type SignedUrlDto,
  type SignedUrlResponse,
  type UploadedObjectResponse,
} from './dto/storage.dto';
import { InvalidObjectPath, ObjectKey } from './object-key';
import {
  ObjectNotFoundError,
  ObjectPathConflictError,
  type ObjectRead,
  ObjectStorage,
  ObjectTooLargeError,
} from './object-storage';
import {
  InvalidObjectPathException,
  ObjectNotFoundException,
  ObjectPathConflictException,
  ObjectTooLargeException,
} from './storage.exceptions';

const RESOURCE = 'storage_object';

/**
 * The tenant's side of object storage: list buckets, hand out signed URLs, delete; and, for the local store,
 * what its signed URLs do. Every mutation is audited with the object's SHA-256 when known.
 */
@Injectable()
export class StorageService {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    private readonly config: StorageConfig,
  ) {}

  async buckets(tenantId: string): Promise<BucketPage> {
    const usage = await this.storage.usage(tenantId);
    return {
      items: usage.map((bucket) => ({
        name: bucket.name,
        prefix: `${tenantId}/${bucket.name}/`,
        object_count: bucket.objects,
        bytes: bucket.bytes,
      })),
      total: usage.length,
    };
  }

  /** Viewers may sign GET; PUT needs a member. GET of an object that does not exist is 404 at once. */
  async sign(
    tenantId: string,
    principal: Principal,
    input: SignedUrlDto,
    origin: string,
  ): Promise<SignedUrlResponse> {
    const key = keyOf(tenantId, input.path);
    if (input.method === 'PUT' && !hasRole(principal, 'member')) {
      throw new InsufficientPermissionsException('member', principal.role);
    }
    if (input.method === 'GET' && !(await this.storage.stat(key)))
      throw new ObjectNotFoundException(key.path);
    const expiresIn = input.expires_in ?? DEFAULT_EXPIRES_IN;
    // Whole seconds, as both signatures carry them, so expires_at is exactly when the URL stops working.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const url = await this.storage.signedUrl(key, {
      method: input.method,
      expiresIn,
      signedAt,
      origin,
      actor: actorOf(principal),
    });
    const expiresAt = new Date(signedAt.getTime() + expiresIn * 1000).toISOString();
    if (input.method === 'PUT') {
      // For S3 this is the only trace Conflux has: the bytes go from the browser straight to the store.
      await this.audit.record({
        tenantId,
        eventType: 'storage.url_signed',
        resourceType: RESOURCE,
        resourceId: key.path,
        details: { path: key.path, method: input.method, expires_at: expiresAt, backend: this.storage.kind },
      });
    }
    return { url, method: input.method, expires_at: expiresAt };
  }

  /**
   * The audit event and the deletion commit together: the event is written first (in the transaction), the
   * object deleted next, and a failure in between rolls the event back.
   */
  delete(tenantId: string, path: string): Promise<DeletedObjectResponse> {
    const key = keyOf(tenantId, path);
    return this.tx.run(async () => {
      const stat = await this.storage.stat(key);
      if (!stat) throw new ObjectNotFoundException(key.path);
      await this.audit.record({
        tenantId,
        eventType: 'storage.object_deleted',
        resourceType: RESOURCE,
        resourceId: key.path,
        sha256: stat.sha256,
        details: { path: key.path, size: stat.size, backend: this.storage.kind },
      });
      if (!(await this.storage.delete(key))) throw new ObjectNotFoundException(key.path);
      return { path: key.path, deleted: true, size: stat.size, sha256: stat.sha256 ?? null };
    });
  }

  /** A signed PUT on the local store: streamed in under UPLOAD_LIMIT, visible only once complete, audited. */
  async receive(
    key: ObjectKey,
    body: Readable,
    headers: IncomingHttpHeaders,
  ): Promise<UploadedObjectResponse> {
    const limit = this.config.uploadLimitBytes;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw new ObjectTooLargeException(limit);
    const contentType = headers['content-type'];
    const stored = await this.storage
      .put(key, body, { maxBytes: limit, ...(contentType ? { contentType } : {}) })
      .catch(translate(key));
    await this.audit.record({
      tenantId: key.tenantId,
      eventType: 'storage.object_written',
      resourceType: RESOURCE,
      resourceId: key.path,
      sha256: stored.sha256,
      details: {
        path: key.path,
        size: stored.size,
        content_type: contentType ?? null,
        backend: this.storage.kind,
      },
    });
    return { path: key.path, size: stored.size, sha256: stored.sha256 };
  }

  /** A signed GET on the local store. */
  open(key: ObjectKey): Promise<ObjectRead> {
    return this.storage.get(key).catch(translate(key));
  }
}

/** The tenant's key for a client's path; a bad path is 400 naming the field, before any I/O. */
export function keyOf(tenantId: string, path: string, field = 'path'): ObjectKey {
  try {
    return ObjectKey.of(tenantId, path);
  } catch (error) {
    if (error instanceof InvalidObjectPath) throw new InvalidObjectPathException(field, error.reason);
    throw error;
  }
}

/** Store errors as the envelope's codes. */
function translate(key: ObjectKey) {
  return (error: unknown): never => {
    if (error instanceof ObjectTooLargeError) throw new ObjectTooLargeException(error.limit);
    if (error instanceof ObjectPathConflictError) throw new ObjectPathConflictException(key.path);
    if (error instanceof ObjectNotFoundError) throw new ObjectNotFoundException(key.path);
    throw error;
  };
}
