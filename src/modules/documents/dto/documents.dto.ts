import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { QueryInt } from '../../../core/http/query-int';
import { TenantScopedQuery } from '../../../core/tenancy/tenant-query.dto';
import type { DocumentStatus } from '../documents.repository';
import type { Modality } from '../extraction/sniff';

export class DocumentResponse {
  id: string;
  tenant_id: string;
  /** The name the client gave the file (display only: the type comes from the bytes). */
  filename: string;
  @ApiProperty({ enum: ['uploaded', 'processing', 'processed', 'failed'] })
  status: DocumentStatus;
  @ApiProperty({ enum: ['tabular', 'text', 'image', 'pdf', 'other'] })
  modality: Modality;
  /** The client's `metadata` part, as given. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;
  /** Hex SHA-256 of the stored bytes. The same bytes uploaded twice are two documents with one sha256. */
  sha256: string;
  @ApiProperty({ type: 'integer' })
  size: number;
  /** What the bytes are: `csv`, `tsv`, `json`, `xlsx`, `pdf`, `png`, `text`, `binary`, ... */
  detected_type: string;
  /** The detected type's media type (downloads are served with it). */
  content_type: string;
  /** Why the last extraction failed. */
  error: string | null;
  /** Set on a produced document (a table's CSV export): the table it came from. */
  source_table_id: string | null;
  created_at: string;
  updated_at: string;
}

export class DocumentPage {
  items: DocumentResponse[];
  @ApiProperty({ type: 'integer' })
  total: number;
}

export class TimelineEventResponse {
  @ApiProperty({ type: 'integer' })
  seq: number;
  /** `document.uploaded`, `job.created`, `job.started`, `job.succeeded`, `job.failed`, `table.created`, ... */
  event_type: string;
  document_id: string | null;
  job_id: string | null;
  configuration_id: string | null;
  table_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  data: Record<string, unknown>;
  /** `user:<id>`, `api_key:<id>`, `system` (the worker), ... */
  actor: string;
  timestamp: string;
}

export class TimelineQuery extends TenantScopedQuery {
  @QueryInt({ min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, description: 'Events after this seq' })
  after_seq: number = 0;

  @QueryInt({ min: 1, max: 1000, default: 1000 })
  limit: number = 1000;
}

export class ChainEventResponse {
  /** The audit event type (`document.uploaded`, `job.created`, ..., `document.downloaded`). */
  action: string;
  timestamp: string;
  performed_by: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;
  hash: string;
  prev_hash: string;
  /** The event's place in the tenant's audit chain. */
  @ApiProperty({ type: 'integer' })
  seq: number;
}

export class ChainResponse {
  document_id: string;
  /** Oldest first. */
  events: ChainEventResponse[];
  /**
   * Every event's hash recomputes from its content, and the tenant's chain is unbroken up to the last of them
   * (each link's prev_hash is its predecessor's hash).
   */
  verified: boolean;
  /** When not verified: the first audit event that does not check out, and why. */
  @ApiPropertyOptional()
  first_broken?: { seq: number; reason: string } | null;
}
