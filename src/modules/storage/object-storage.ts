import type { Readable } from 'node:stream';
import type { ObjectKey } from './object-key';

export type SignedMethod = 'GET' | 'PUT';

/** What a completed write stored. */
export interface StoredObject {
  size: number;
  /** Hex SHA-256 of the bytes, computed while they streamed through. */
  sha256: string;
  etag: string;
}

export interface ObjectStat {
  size: number;
  modified: Date;
  etag: string;
  /** The type the object was uploaded with, when the store knows it. */
  contentType?: string;
  /** Known when the object was written through Conflux (not, e.g., by a client's presigned PUT to S3). */
  sha256?: string;
}

/** An open object: its metadata and a stream of exactly those bytes (one consistent version). */
export interface ObjectRead extends ObjectStat {
  stream: Readable;
}

export interface BucketUsage {
  name: string;
  objects: number;
  bytes: number;
}

export interface PutOptions {
  /** Refuse (and store nothing) once the stream passes this many bytes. */
  maxBytes?: number;
  contentType?: string;
}

export interface SignOptions {
  method: SignedMethod;
  /** Seconds after `signedAt`. */
  expiresIn: number;
  /** Whole seconds: the URL works until `signedAt + expiresIn`. */
  signedAt: Date;
  /** The origin a URL served by Conflux itself points at (the local store); S3 ignores it. */
  origin: string;
  /** Who asked for the URL (`api_key:<id>`, ...): the local store signs it in and audits uploads as them. */
  actor: string;
}

export class ObjectTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`object exceeds ${limit} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

/** A path that is an object and would have to be a folder too (or the reverse): the local store cannot hold both. */
export class ObjectPathConflictError extends Error {
  constructor(readonly key: ObjectKey) {
    super(`'${key.path}' conflicts with an existing object or folder`);
    this.name = 'ObjectPathConflictError';
  }
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: ObjectKey) {
    super(`object '${key.path}' not found`);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * Where object bytes live: the local filesystem or an S3-compatible store, chosen by config. The abstract
 * class is the injection token. Keys are ObjectKeys, so every operation is within one tenant by construction.
 * A write is all or nothing: until `put` resolves nobody sees the new object, and if the writer dies midway
 * the previous version (or nothing) stays.
 */
export abstract class ObjectStorage {
  abstract readonly kind: 'local' | 's3';

  /** Streams `body` in (never buffering the whole object) and makes it visible only once complete. */
  abstract put(key: ObjectKey, body: Readable, options?: PutOptions): Promise<StoredObject>;

  /** Throws ObjectNotFoundError. */
  abstract get(key: ObjectKey): Promise<ObjectRead>;

  /** undefined when absent. */
  abstract stat(key: ObjectKey): Promise<ObjectStat | undefined>;

  /** false when there was nothing to delete. */
  abstract delete(key: ObjectKey): Promise<boolean>;

  /** The tenant's buckets (first path segments) that hold objects, with counts and bytes, by name. */
  abstract usage(tenantId: string): Promise<BucketUsage[]>;

  /** A URL that lets its holder do `method` on this one object until it expires, with no other credential. */
  abstract signedUrl(key: ObjectKey, options: SignOptions): Promise<string>;

  /** Throws when the store cannot be reached or written. */
  abstract ping(): Promise<void>;

  /** Lets go of what the store holds open (S3's sockets); the local store holds nothing. */
  close(): void {}
}
