import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { actorOf } from '../../core/auth/principal';
import { StorageConfig } from '../../core/config/storage.config';
import { Transactions } from '../../core/database/transaction';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { auditHash } from '../audit/audit-hash';
import { AuditService } from '../audit/audit.service';
import type { AuditEventResponse } from '../audit/dto/audit.dto';
import { ObjectKey } from '../storage/object-key';
import { ObjectStorage, ObjectTooLargeError, type ObjectRead } from '../storage/object-storage';
import { ObjectTooLargeException } from '../storage/storage.exceptions';
import { DOCUMENT_RESOURCE, DocumentEvents, iso } from './document-events';
import { DocumentsMetrics } from './documents.metrics';
import { DocumentsRepository, type DocumentRow, type TableRow } from './documents.repository';
import {
  DocumentNotFoundException,
  DocumentTypeRefusedException,
  InvalidUploadException,
} from './documents.exceptions';
import type {
  ChainResponse,
  DocumentPage,
  DocumentResponse,
  TimelineEventResponse,
  TimelineQuery,
} from './dto/documents.dto';
import type { TableResponse } from './dto/tables.dto';
import type { DetectedType } from './extraction/sniff';
import { readMultipart, sniffing } from './multipart-upload';
import { PoliciesService } from '../policies/policies.service';

/** Where a document's bytes live in its tenant's store. */
export const DOCUMENTS_BUCKET = 'documents';
const AUDIT_PAGE = 1000;

export function documentKey(tenantId: string, documentId: string): ObjectKey {
  return ObjectKey.of(tenantId, `${DOCUMENTS_BUCKET}/${documentId}`);
}

/** What a download is: the bytes to stream (local store) or a signed URL to redirect to (S3). */
export type Download =
  { document: DocumentRow; object: ObjectRead } | { document: DocumentRow; redirect: string };

/**
 * Documents as the API sees them: streamed uploads (hashed, sized and typed from their bytes as they pass),
 * listing, downloads, timelines and the chain of custody.
 */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger('Documents');

  constructor(
    private readonly repository: DocumentsRepository,
    private readonly events: DocumentEvents,
    private readonly storage: ObjectStorage,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    private readonly config: StorageConfig,
    private readonly metrics: DocumentsMetrics,
    private readonly policies: PoliciesService,
  ) {}

  /**
   * Streams the `file` part into the store under UPLOAD_LIMIT while sniffing its head: an executable or an
   * archive is refused (415) and an oversized file (413) before anything becomes visible. Once stored, the
   * document row, its timeline event and its audit event commit together; any refusal after the bytes were
   * stored removes them.
   */
  async upload(tenantId: string, req: IncomingMessage): Promise<DocumentResponse> {
    const limit = this.config.uploadLimitBytes;
    const declared = Number(req.headers['content-length']);
    // A multipart body carries its boundaries too: refuse up front only what cannot fit whatever they are.
    if (Number.isFinite(declared) && declared > limit + 64 * 1024) throw new ObjectTooLargeException(limit);
    await this.policies.assert('create', 'Document', {});
    const id = randomUUID();
    const key = documentKey(tenantId, id);
    let detected: DetectedType | undefined;
    let stored = false;
    const store = async ({ stream }: { stream: Readable }) => {
      let refusal: DocumentTypeRefusedException | undefined;
      const typed = stream.pipe(
        sniffing((type) => {
          detected = type;
          if (type.refused) throw (refusal = new DocumentTypeRefusedException(type.type));
        }),
      );
      stream.on('error', (error) => typed.destroy(error));
      // The refusal may come before the store has started reading (it is rethrown below either way).
      typed.on('error', () => undefined);
      try {
        const object = await this.storage.put(key, typed, { maxBytes: limit });
        stored = true;
        return object;
      } catch (error) {
        if (refusal) throw refusal;
        if (error instanceof ObjectTooLargeError) throw new ObjectTooLargeException(error.limit);
        throw error;
      }
    };
    try {
      const upload = await readMultipart(req, store);
      const type = detected as DetectedType;
      const metadata = parseMetadata(upload.metadata);
      const document = await this.tx.run(async () => {
        const row = await this.repository.insertDocument({
          id,
          tenant_id: tenantId,
          filename: upload.filename.slice(0, 500),
          status: 'uploaded',
          modality: type.modality,
          detected_type: type.type,
          content_type: type.contentType,
          metadata,
          sha256: upload.stored.sha256,
          size: upload.stored.size,
          storage_path: key.path,
          source_table_id: null,
          created_by: actorOf(currentPrincipal()),
        });
        await this.events.record({
          tenantId,
          type: 'document.uploaded',
          document_id: id,
          sha256: row.sha256,
          data: {
            filename: row.filename,
            size: row.size,
            detected_type: row.detected_type,
            modality: row.modality,
          },
        });
        return row;
      });
      this.metrics.uploadedBytes.inc({ type: type.type }, document.size);
      return toDocumentResponse(document);
    } catch (error) {
      if (stored) {
        await this.storage
          .delete(key)
          .catch((cause: Error) =>
            this.logger.warn(`could not remove refused upload ${key.toString()}: ${cause.message}`),
          );
      }
      throw error;
    }
  }

  async list(tenantId: string, offset: number, limit: number): Promise<DocumentPage> {
    const [rows, total] = await this.repository.listDocuments(tenantId, offset, limit);
    return { items: rows.map(toDocumentResponse), total };
  }

  async get(tenantId: string, id: string): Promise<DocumentResponse> {
    return toDocumentResponse(await this.document(tenantId, id));
  }

  /** The document, as far as the caller's access policies let them read it. */
  async document(tenantId: string, id: string): Promise<DocumentRow> {
    const row = await this.repository.document(tenantId, id);
    if (!row) throw new DocumentNotFoundException(id);
    await this.policies.assert('read', 'Document', row);
    return row;
  }

  /** Audited before the bytes go out; S3 answers with a signed URL (5 minutes) instead of proxying them. */
  async download(tenantId: string, id: string, origin: string): Promise<Download> {
    const document = await this.document(tenantId, id);
    const key = ObjectKey.of(tenantId, document.storage_path);
    await this.events.record({
      tenantId,
      type: 'document.downloaded',
      document_id: id,
      sha256: document.sha256,
      data: { via: this.storage.kind === 's3' ? 'signed_url' : 'stream' },
    });
    if (this.storage.kind === 's3') {
      const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      const redirect = await this.storage.signedUrl(key, {
        method: 'GET',
        expiresIn: 300,
        signedAt,
        origin,
        actor: actorOf(currentPrincipal()),
      });
      return { document, redirect };
    }
    return { document, object: await this.storage.get(key) };
  }

  async timeline(tenantId: string, id: string, page: TimelineQuery): Promise<TimelineEventResponse[]> {
    await this.document(tenantId, id);
    return this.events.timeline(tenantId, 'document_id', id, page);
  }

  async tables(tenantId: string, id: string): Promise<TableResponse[]> {
    await this.document(tenantId, id);
    return (await this.repository.tablesOf(tenantId, { document_id: id })).map(toTableResponse);
  }

  /**
   * The document's audit events, oldest first. Verified when each event's hash recomputes from its content and
   * the tenant's chain holds together up to the last of them (a broken link later on is not this document's).
   */
  async chain(tenantId: string, id: string): Promise<ChainResponse> {
    await this.document(tenantId, id);
    const events: AuditEventResponse[] = [];
    for (let offset = 0; ; offset += AUDIT_PAGE) {
      const page = await this.audit.list(
        tenantId,
        { resource_type: DOCUMENT_RESOURCE, resource_id: id },
        offset,
        AUDIT_PAGE,
      );
      events.push(...page.items);
      if (page.items.length < AUDIT_PAGE) break;
    }
    events.reverse();
    let firstBroken: { seq: number; reason: string } | null = null;
    for (const event of events) {
      const recomputed = auditHash({ ...event, timestamp: new Date(event.timestamp) });
      if (recomputed !== event.hash) {
        firstBroken = { seq: event.seq, reason: 'content does not match its hash' };
        break;
      }
    }
    if (!firstBroken && events.length > 0) {
      const last = events[events.length - 1].seq;
      const verdict = await this.audit.verify(tenantId);
      if (verdict.first_broken && verdict.first_broken.seq <= last) {
        firstBroken = { seq: verdict.first_broken.seq, reason: verdict.first_broken.reason };
      }
    }
    return {
      document_id: id,
      events: events.map((event) => ({
        action: event.action,
        timestamp: event.timestamp,
        performed_by: event.performed_by,
        metadata: event.metadata,
        hash: event.hash,
        prev_hash: event.prev_hash,
        seq: event.seq,
      })),
      verified: firstBroken === null,
      first_broken: firstBroken,
    };
  }
}

function parseMetadata(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidUploadException('metadata', `not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidUploadException('metadata', 'must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function toDocumentResponse(row: DocumentRow): DocumentResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    filename: row.filename,
    status: row.status,
    modality: row.modality,
    metadata: row.metadata,
    sha256: row.sha256,
    size: row.size,
    detected_type: row.detected_type,
    content_type: row.content_type,
    error: row.error,
    source_table_id: row.source_table_id,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function toTableResponse(row: TableRow): TableResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.table_name,
    schema: row.schema_name,
    sheet: row.sheet,
    columns: row.columns,
    row_count: row.row_count,
    document_id: row.document_id,
    job_id: row.job_id,
    created_at: iso(row.created_at),
  };
}
