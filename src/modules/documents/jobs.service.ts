import { Injectable } from '@nestjs/common';
import { actorOf } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { ServiceUnavailableAppException } from '../../core/http/app.exception';
import { JobQueue } from '../../core/queue/job-queue.service';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { ConfigurationsService } from './configurations.service';
import { DocumentEvents, iso } from './document-events';
import { DocumentsRepository, type JobRow, type JobStatus } from './documents.repository';
import { DocumentsService, toTableResponse } from './documents.service';
import {
  JobInProgressException,
  JobNotFoundException,
  NotExtractableException,
} from './documents.exceptions';
import type { TimelineEventResponse, TimelineQuery } from './dto/documents.dto';
import type { CreateJobDto, JobPage, JobResponse } from './dto/jobs.dto';
import type { TableResponse } from './dto/tables.dto';
import { DEFAULT_SETTINGS } from './extraction/settings';
import { PoliciesService } from '../policies/policies.service';

/** Attempts per job: a worker that dies mid-job is retried by stall detection; an infrastructure error by these. */
export const EXTRACTION_ATTEMPTS = 3;

/** Extraction jobs as the API sees them: created (and queued) here, run by the worker's ExtractionService. */
@Injectable()
export class JobsService {
  constructor(
    private readonly repository: DocumentsRepository,
    private readonly documents: DocumentsService,
    private readonly configurations: ConfigurationsService,
    private readonly events: DocumentEvents,
    private readonly queue: JobQueue,
    private readonly tx: Transactions,
    private readonly policies: PoliciesService,
  ) {}

  /** Records the job (with the configuration version it will use) and queues it; 409 while another is in flight. */
  async create(tenantId: string, input: CreateJobDto): Promise<JobResponse> {
    const document = await this.documents.document(tenantId, input.document_id);
    // Extraction changes the document (its status, its tables).
    await this.policies.assert('update', 'Document', document);
    const configuration = input.configuration_id
      ? await this.configurations.configuration(tenantId, input.configuration_id)
      : undefined;
    const settings = configuration?.settings ?? DEFAULT_SETTINGS;
    // Text is read as CSV (one column when no delimiter is found); images, PDFs and binaries hold no tables.
    if (document.modality !== 'tabular' && document.modality !== 'text')
      throw new NotExtractableException(document.id, document.detected_type);
    const job = await this.tx.run(async () => {
      const row = await this.repository.insertJob({
        tenant_id: tenantId,
        document_id: document.id,
        configuration_id: configuration?.id ?? null,
        configuration_version: configuration?.version ?? null,
        settings,
        created_by: actorOf(currentPrincipal()),
      });
      if (!row) throw new JobInProgressException(document.id);
      await this.events.record({
        tenantId,
        type: 'job.created',
        document_id: document.id,
        job_id: row.id,
        data: { configuration_id: row.configuration_id, configuration_version: row.configuration_version },
      });
      return row;
    });
    try {
      await this.queue.enqueue(
        'documents.extract',
        { job_id: job.id, tenant_id: tenantId },
        // The job's id as BullMQ's: enqueueing it twice is one job.
        { jobId: job.id, attempts: EXTRACTION_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } },
      );
    } catch (error) {
      await this.tx.run(async () => {
        await this.repository.finishJob(tenantId, job.id, {
          status: 'failed',
          error: 'the job could not be queued',
          rows: null,
          warnings: [],
        });
        await this.events.record({
          tenantId,
          type: 'job.failed',
          document_id: document.id,
          job_id: job.id,
          data: { reason: 'queue_unavailable', error: (error as Error).message },
        });
      });
      throw new ServiceUnavailableAppException('QUEUE_UNAVAILABLE', 'The job could not be queued; try again');
    }
    return toJobResponse(job);
  }

  async list(
    tenantId: string,
    filter: { document_id?: string; status?: JobStatus },
    offset: number,
    limit: number,
  ): Promise<JobPage> {
    const [rows, total] = await this.repository.listJobs(tenantId, filter, offset, limit);
    return { items: rows.map(toJobResponse), total };
  }

  async get(tenantId: string, id: string): Promise<JobResponse> {
    return toJobResponse(await this.job(tenantId, id));
  }

  private async job(tenantId: string, id: string): Promise<JobRow> {
    const row = await this.repository.job(tenantId, id);
    if (!row) throw new JobNotFoundException(id);
    return row;
  }

  async timeline(tenantId: string, id: string, page: TimelineQuery): Promise<TimelineEventResponse[]> {
    await this.job(tenantId, id);
    return this.events.timeline(tenantId, 'job_id', id, page);
  }

  async tables(tenantId: string, id: string): Promise<TableResponse[]> {
    await this.job(tenantId, id);
    return (await this.repository.tablesOf(tenantId, { job_id: id })).map(toTableResponse);
  }
}

export function toJobResponse(row: JobRow): JobResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    document_id: row.document_id,
    configuration_id: row.configuration_id,
    configuration_version: row.configuration_version,
    settings: row.settings,
    status: row.status,
    error: row.error,
    warnings: row.warnings,
    rows: row.rows,
    attempts: row.attempts,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
  };
}
