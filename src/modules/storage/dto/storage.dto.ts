import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export const SIGNED_METHODS = ['GET', 'PUT'] as const;
export const DEFAULT_EXPIRES_IN = 300;
export const MAX_EXPIRES_IN = 900;

const upperCase = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.toUpperCase() : value;

export class SignedUrlDto {
  /**
   * `<bucket>/<path>` inside the caller's tenant, e.g. `uploads/2025/report.csv`. No `..` or `.` segments,
   * leading slash, backslash, control characters or empty segments; at most 1024 bytes with the tenant prefix.
   */
  @IsString()
  path: string;

  /** `GET` to download, `PUT` to upload (member or above). */
  @IsDefined()
  @Transform(upperCase)
  @IsIn(SIGNED_METHODS)
  method: (typeof SIGNED_METHODS)[number];

  /** Seconds until the URL stops working: 1 to 900, default 300. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_EXPIRES_IN, default: DEFAULT_EXPIRES_IN })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_EXPIRES_IN)
  expires_in?: number;
}

export class SignedUrlResponse {
  /** Use it as it is, with no other credential: `GET` downloads, `PUT` with the bytes as the body uploads. */
  url: string;
  method: 'GET' | 'PUT';
  /** ISO-8601 UTC; the URL is refused after this. */
  expires_at: string;
}

export class ObjectPathDto {
  /** `<bucket>/<path>` inside the caller's tenant. */
  @IsString()
  path: string;
}

export class DeletedObjectResponse {
  path: string;
  deleted: true;
  size: number;
  /** The deleted bytes' SHA-256, when the store knew it (objects written through Conflux). */
  sha256: string | null;
}

export class BucketResponse {
  /** The bucket: the first segment of its objects' paths. */
  name: string;
  /** Its key prefix in the store, `<tenant_id>/<bucket>/`. */
  prefix: string;
  @ApiProperty({ type: 'integer' })
  object_count: number;
  /** Total size of its objects. */
  @ApiProperty({ type: 'integer' })
  bytes: number;
}

export class BucketPage {
  items: BucketResponse[];
  total: number;
}

export class UploadedObjectResponse {
  path: string;
  size: number;
  /** Hex SHA-256 of the bytes received. */
  sha256: string;
}
