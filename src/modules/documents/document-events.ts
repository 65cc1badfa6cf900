import { Injectable } from '@nestjs/common';
import { actorOf } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { EventPublisher } from '../../core/events/event-publisher';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { AuditService } from '../audit/audit.service';
import { DocumentsRepository, type EventLinks, type EventRow } from './documents.repository';
import type { TimelineEventResponse } from './dto/documents.dto';

/** The audit resource type of a document's chain of custody: every event about it or its jobs and tables. */
export const DOCUMENT_RESOURCE = 'document';
export const CONFIGURATION_RESOURCE = 'extraction_configuration';

export interface StateChange extends EventLinks {
  tenantId: string;
  type: string;
  data?: Record<string, unknown>;
  /** The chain the audit event joins: a document's (by default, when `document_id` is set) or a configuration's. */
  audit?: { resourceType: string; resourceId: string };
  sha256?: string;
}

/**
 * One state change, recorded three ways in the surrounding transaction: on the resources' timelines
 * (document_events), in the tenant's audit chain, and (once committed) on the tenant's `documents` topic.
 */
@Injectable()
export class DocumentEvents {
  constructor(
    private readonly repository: DocumentsRepository,
    private readonly audit: AuditService,
    private readonly publisher: EventPublisher,
    private readonly tx: Transactions,
  ) {}

  /** A resource's timeline, oldest first, from `after_seq` on (the caller has checked the resource is the tenant's). */
  async timeline(
    tenantId: string,
    of: 'document_id' | 'job_id' | 'configuration_id',
    id: string,
    page: { after_seq: number; limit: number },
  ): Promise<TimelineEventResponse[]> {
    const rows = await this.repository.events(tenantId, of, id, page.after_seq, page.limit);
    return rows.map(toTimelineResponse);
  }

  record(change: StateChange): Promise<EventRow> {
    return this.tx.run(() => this.append(change));
  }

  private async append(change: StateChange): Promise<EventRow> {
    const links = {
      document_id: change.document_id ?? null,
      job_id: change.job_id ?? null,
      configuration_id: change.configuration_id ?? null,
      table_id: change.table_id ?? null,
    };
    const data = change.data ?? {};
    const event = await this.repository.appendEvent({
      tenant_id: change.tenantId,
      event_type: change.type,
      ...links,
      data,
      actor: actorOf(currentPrincipal()),
    });
    const chain =
      change.audit ??
      (links.document_id ? { resourceType: DOCUMENT_RESOURCE, resourceId: links.document_id } : undefined);
    if (chain) {
      await this.audit.record({
        tenantId: change.tenantId,
        eventType: change.type,
        resourceType: chain.resourceType,
        resourceId: chain.resourceId,
        details: { ...stripNull(links), ...data },
        ...(change.sha256 ? { sha256: change.sha256 } : {}),
      });
    }
    this.tx.afterCommit(() =>
      this.publisher.publish([
        {
          tenant_id: change.tenantId,
          topic: 'documents',
          resource_id: links.job_id ?? links.document_id ?? links.configuration_id ?? links.table_id ?? '',
          type: change.type,
          seq: event.seq,
          data: { ...stripNull(links), ...data },
          timestamp: new Date(event.timestamp).toISOString(),
        },
      ]),
    );
    return event;
  }
}

function stripNull(links: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(links).filter(([, v]) => v !== null)) as Record<string, string>;
}

/** A stored timestamp as ISO-8601 (null stays null). */
export function iso<T extends Date | null>(date: T): T extends Date ? string : string | null {
  return (date ? new Date(date).toISOString() : null) as T extends Date ? string : string | null;
}

export function toTimelineResponse(row: EventRow): TimelineEventResponse {
  return {
    seq: row.seq,
    event_type: row.event_type,
    document_id: row.document_id,
    job_id: row.job_id,
    configuration_id: row.configuration_id,
    table_id: row.table_id,
    data: row.data,
    actor: row.actor,
    timestamp: iso(row.timestamp),
  };
}
