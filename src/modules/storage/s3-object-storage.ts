import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Logger } from '@nestjs/common';
import type { StorageConfig } from '../../core/config/storage.config';
import { metered, scavenging } from './metered';
import type { ObjectKey } from './object-key';
import {
  type BucketUsage,
  ObjectNotFoundError,
  type ObjectRead,
  type ObjectStat,
  ObjectStorage,
  type PutOptions,
  type SignOptions,
  type StoredObject,
} from './object-storage';

/** lib-storage buffers up to queueSize x partSize per upload: 16 MB here, whatever the object's size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
const PING_TIMEOUT_MS = 2000;
const SHA_TAG = 'conflux-sha256';
const ETAG_TAG = 'conflux-etag';

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isMissing = (error: unknown) =>
  statusOf(error) === 404 || ['NoSuchKey', 'NotFound'].includes((error as Error).name);
const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/**
 * Objects in one S3 bucket (`S3_BUCKET`), keyed `<tenant>/<bucket>/<path>`; any S3-compatible store (MinIO,
 * AWS). Writes go through lib-storage's Upload (one PutObject when small, multipart when large): S3 makes an
 * object visible only when its PutObject or CompleteMultipartUpload succeeds, so a killed writer leaves at
 * most an incomplete multipart upload, which is never listed (a lifecycle rule should abort old ones). The
 * SHA-256 is only known once the bytes have streamed, after S3 fixed the object's metadata, so it goes in
 * object tags together with the ETag it describes; a tag whose ETag no longer matches is ignored.
 */
export class S3ObjectStorage extends ObjectStorage {
  readonly kind = 's3';
  private readonly logger = new Logger('Storage');
  private readonly client: S3Client;
  /** Signs URLs for the endpoint browsers reach, which may differ from the one this process uses. */
  private readonly presigner: S3Client;
  private readonly bucket: string;

  constructor(config: StorageConfig) {
    super();
    this.bucket = config.S3_BUCKET as string;
    const base: S3ClientConfig = {
      region: config.S3_REGION,
      forcePathStyle: config.S3_FORCE_PATH_STYLE ?? config.S3_ENDPOINT !== undefined,
      ...(config.S3_ACCESS_KEY && config.S3_SECRET_KEY
        ? { credentials: { accessKeyId: config.S3_ACCESS_KEY, secretAccessKey: config.S3_SECRET_KEY } }
        : {}),
      // No default CRC32 trailers: not every S3-compatible store takes them, and a presigned PUT would carry
      // the checksum of an empty body.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    this.client = new S3Client({ ...base, ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}) });
    this.presigner = config.S3_PUBLIC_ENDPOINT
      ? new S3Client({ ...base, endpoint: config.S3_PUBLIC_ENDPOINT })
      : this.client;
  }

  /** Creates the bucket when it does not exist yet (a fresh MinIO); a store that refuses is reported, not fatal. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isMissing(error)) {
        this.logger.warn(`bucket '${this.bucket}' unreachable: ${(error as Error).message}`);
        return;
      }
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
        this.logger.log(`created bucket '${this.bucket}'`);
      } catch (createError) {
        this.logger.warn(
          `bucket '${this.bucket}' missing and not created: ${(createError as Error).message}`,
        );
      }
    }
  }

  async put(key: ObjectKey, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const meter = metered(options.maxBytes);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key.toString(),
        Body: meter.stream,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const piping = pipeline(body, meter.stream);
    let result: Awaited<ReturnType<Upload['done']>>;
    try {
      [result] = await Promise.all([upload.done(), piping]);
    } catch (error) {
      // Whichever side failed first, stop the other: an aborted upload leaves no object behind.
      meter.stream.destroy();
      await upload.abort().catch(() => undefined);
      await piping.catch(() => undefined);
      throw error;
    }
    const sha256 = meter.sha256();
    const etag = unquote(result.ETag);
    await this.client
      .send(
        new PutObjectTaggingCommand({
          Bucket: this.bucket,
          Key: key.toString(),
          Tagging: {
            TagSet: [
              { Key: SHA_TAG, Value: sha256 },
              { Key: ETAG_TAG, Value: etag },
            ],
          },
        }),
      )
      .catch((error: Error) => this.logger.warn(`no sha256 tag on ${key.toString()}: ${error.message}`));
    return { size: meter.size(), sha256, etag };
  }

  async get(key: ObjectKey): Promise<ObjectRead> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key.toString() }));
      return {
        stream: scavenging(out.Body as Readable),
        size: out.ContentLength ?? 0,
        modified: out.LastModified ?? new Date(0),
        etag: unquote(out.ETag),
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
      };
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async stat(key: ObjectKey): Promise<ObjectStat | undefined> {
    const input = { Bucket: this.bucket, Key: key.toString() };
    const [head, tags] = await Promise.allSettled([
      this.client.send(new HeadObjectCommand(input)),
      this.client.send(new GetObjectTaggingCommand(input)),
    ]);
    if (head.status === 'rejected') {
      if (isMissing(head.reason)) return undefined;
      throw head.reason;
    }
    const etag = unquote(head.value.ETag);
    const tagged = tags.status === 'fulfilled' ? (tags.value.TagSet ?? []) : [];
    const tag = (name: string) => tagged.find((t) => t.Key === name)?.Value;
    const sha256 = tag(ETAG_TAG) === etag ? tag(SHA_TAG) : undefined;
    return {
      size: head.value.ContentLength ?? 0,
      modified: head.value.LastModified ?? new Date(0),
      etag,
      ...(head.value.ContentType ? { contentType: head.value.ContentType } : {}),
      ...(sha256 ? { sha256 } : {}),
    };
  }

  async delete(key: ObjectKey): Promise<boolean> {
    // DeleteObject succeeds for absent keys too; the HEAD is what tells a client 404.
    if (!(await this.exists(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key.toString() }));
    return true;
  }

  async usage(tenantId: string): Promise<BucketUsage[]> {
    const prefix = `${tenantId}/`;
    const buckets = new Map<string, BucketUsage>();
    for await (const page of paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const object of page.Contents ?? []) {
        const rest = (object.Key ?? '').slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash <= 0) continue;
        const name = rest.slice(0, slash);
        const usage = buckets.get(name) ?? { name, objects: 0, bytes: 0 };
        usage.objects += 1;
        usage.bytes += object.Size ?? 0;
        buckets.set(name, usage);
      }
    }
    return [...buckets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async signedUrl(key: ObjectKey, options: SignOptions): Promise<string> {
    const input = { Bucket: this.bucket, Key: key.toString() };
    const command = options.method === 'GET' ? new GetObjectCommand(input) : new PutObjectCommand(input);
    return getSignedUrl(this.presigner, command, {
      expiresIn: options.expiresIn,
      signingDate: options.signedAt,
    });
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
      abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS),
    });
  }

  override close(): void {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }

  private async exists(key: ObjectKey): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key.toString() }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
