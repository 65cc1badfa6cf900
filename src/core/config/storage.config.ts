import { IsBoolean, IsOptional, IsString, IsUrl, Matches, ValidateIf } from 'class-validator';
import { EnvBoolean } from './config.loader';

const SIZE = /^(\d+)(b|kb|mb|gb)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Object storage: the local filesystem by default, an S3-compatible store when `S3_BUCKET` is set. */
export class StorageConfig {
  /** Where the local store keeps objects (`<tenant>/<bucket>/<path>` below it); unused when `S3_BUCKET` is set. */
  @IsString()
  STORAGE_DIR: string = '.data/storage';

  /** Largest upload (a size such as `50mb`): a bigger signed PUT answers 413 and stores nothing. */
  @Matches(SIZE, { message: 'must be a size such as 50mb, 512kb or 1048576' })
  UPLOAD_LIMIT: string = '50mb';

  /** The API's public origin in local signed URLs (`https://conflux.example.com`); default: the request's origin. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  STORAGE_PUBLIC_URL?: string;

  /** An S3-compatible endpoint (MinIO: `http://minio:9000`); unset with `S3_BUCKET` set means AWS S3. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  S3_ENDPOINT?: string;

  /** The endpoint browsers reach for presigned URLs when it differs from `S3_ENDPOINT` (compose: `http://localhost:9000`). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  S3_PUBLIC_ENDPOINT?: string;

  /** The bucket holding every tenant's objects; setting it switches storage to S3 (created at start if missing). */
  @ValidateIf((config: StorageConfig) => config.S3_BUCKET !== undefined || config.S3_ENDPOINT !== undefined)
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message: ({ value }) =>
      value === undefined
        ? 'is required when S3_ENDPOINT is set'
        : 'must be a valid S3 bucket name (3-63 of a-z 0-9 . -)',
  })
  S3_BUCKET?: string;

  /** The S3 region (MinIO accepts any). */
  @IsString()
  S3_REGION: string = 'us-east-1';

  /** S3 access key id; unset: the AWS default credential chain (environment, profile, instance role). */
  @ValidateIf(
    (config: StorageConfig) => config.S3_ACCESS_KEY !== undefined || config.S3_SECRET_KEY !== undefined,
  )
  @IsString({ message: 'is required when S3_SECRET_KEY is set' })
  S3_ACCESS_KEY?: string;

  /** S3 secret access key (required with `S3_ACCESS_KEY`). */
  @ValidateIf(
    (config: StorageConfig) => config.S3_ACCESS_KEY !== undefined || config.S3_SECRET_KEY !== undefined,
  )
  @IsString({ message: 'is required when S3_ACCESS_KEY is set' })
  S3_SECRET_KEY?: string;

  /** Path-style requests (`endpoint/bucket/key`, what MinIO needs); default: on when `S3_ENDPOINT` is set. */
  @IsOptional()
  @IsBoolean()
  @EnvBoolean()
  S3_FORCE_PATH_STYLE?: boolean;

  get backend(): 'local' | 's3' {
    return this.S3_BUCKET ? 's3' : 'local';
  }

  get uploadLimitBytes(): number {
    const [, digits, unit] = SIZE.exec(this.UPLOAD_LIMIT) as RegExpExecArray;
    return Number(digits) * UNITS[(unit ?? 'b').toLowerCase()];
  }
}
