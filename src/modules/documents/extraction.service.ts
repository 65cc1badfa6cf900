import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { DocumentsConfig } from '../../core/config/documents.config';
import { Transactions } from '../../core/database/transaction';
import { DatasetRepository } from '../data/dataset.repository';
import { ObjectKey } from '../storage/object-key';
import { ObjectStorage } from '../storage/object-storage';
import { DocumentEvents } from './document-events';
import { DocumentsMetrics } from './documents.metrics';
import { type DocumentRow, DocumentsRepository, type JobRow } from './documents.repository';
import { ColumnMismatch, loadTable } from './extraction/copy-loader';
import { extract, parserFor, type ExtractedTable, type Warning } from './extraction/extractor';
import { SNIFF_BYTES } from './extraction/sniff';
import { ExtractionError } from './extraction/source';

/** A value past the sample that does not fit makes its column text and the job starts over, this often at most. */
const MAX_WIDENINGS = 50;

interface Loaded {
  tables: ExtractedTable[];
  warnings: Warning[];
  rows: number;
}

/** Postgres errors about the data itself (class 22: data exception; 54: a limit such as too many columns). */
const isDataError = (error: unknown) => /^(22|54)/.test((error as { code?: string }).code ?? '');

/** The first bytes of a stream (SNIFF_BYTES at most), and whether they are all of it. */
async function headOf(stream: Readable): Promise<{ head: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= SNIFF_BYTES)
        return { head: Buffer.concat(chunks).subarray(0, SNIFF_BYTES), complete: false };
    }
    return { head: Buffer.concat(chunks), complete: true };
  } finally {
    stream.destroy();
  }
}

/**
 * The worker's side of a job: claims it (queued/running -> running, document processing), then reads the
 * document from storage and loads its tables with COPY, all in one transaction that also records the tables
 * and the outcome. A worker killed midway leaves nothing (the transaction dies with its connection); the job is
 * delivered again and starts over. A job already finished is not run again.
 */
@Injectable()
export class ExtractionService {
  private readonly logger = new Logger('Extraction');

  constructor(
    private readonly repository: DocumentsRepository,
    private readonly events: DocumentEvents,
    private readonly datasets: DatasetRepository,
    private readonly storage: ObjectStorage,
    private readonly config: DocumentsConfig,
    private readonly metrics: DocumentsMetrics,
    private readonly tx: Transactions,
  ) {}

  async run(jobId: string, finalAttempt: boolean): Promise<void> {
    const claimed = await this.claim(jobId);
    if (!claimed) return;
    const { job, document } = claimed;
    const started = performance.now();
    let parser = 'unknown';
    try {
      parser = parserFor(job.settings, document.detected_type);
      const loaded = await this.load(job, document);
      if (!loaded) return;
      const seconds = (performance.now() - started) / 1000;
      this.metrics.extractedRows.inc({ parser }, loaded.rows);
      this.metrics.jobDuration.observe({ parser, outcome: 'succeeded' }, seconds);
      if (seconds > 0) this.metrics.rowsPerSecond.observe({ parser }, loaded.rows / seconds);
      this.logger.log(
        `job ${job.id}: ${loaded.rows} rows in ${loaded.tables.length} table(s), ${seconds.toFixed(2)} s`,
      );
    } catch (error) {
      const known = error instanceof ExtractionError;
      if (!known && !finalAttempt) throw error;
      const reason = known ? error.reason : 'internal';
      const message = known ? error.message : `internal error: ${(error as Error).message}`;
      this.metrics.jobDuration.observe({ parser, outcome: 'failed' }, (performance.now() - started) / 1000);
      this.metrics.jobFailures.inc({ reason });
      await this.fail(job, message, reason);
      if (!known) this.logger.error(`job ${job.id} failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  /** undefined when the job is gone or already finished (a second delivery after it committed). */
  private claim(jobId: string): Promise<{ job: JobRow; document: DocumentRow } | undefined> {
    return this.tx.run(async () => {
      const current = await this.repository.lockJobForWorker(jobId);
      if (!current || current.status === 'succeeded' || current.status === 'failed') return undefined;
      const document = await this.repository.document(current.tenant_id, current.document_id);
      if (!document) return undefined;
      const job = await this.repository.startJob(current.tenant_id, current.id);
      await this.repository.setDocumentStatus(job.tenant_id, document.id, 'processing', null);
      await this.events.record({
        tenantId: job.tenant_id,
        type: 'job.started',
        document_id: document.id,
        job_id: job.id,
        data: { attempt: job.attempts },
      });
      return { job, document };
    });
  }

  /** Runs the extraction until no column needs widening; undefined if another attempt finished it meanwhile. */
  private async load(job: JobRow, document: DocumentRow): Promise<Loaded | undefined> {
    if (!(await this.datasets.exists(job.tenant_id))) {
      throw new ExtractionError(
        'no_dataset',
        `tenant '${job.tenant_id}' has no data schema to load tables into`,
      );
    }
    const key = ObjectKey.of(job.tenant_id, document.storage_path);
    const open = async () => (await this.storage.get(key)).stream;
    const { head, complete } = await headOf(await open());
    const widened = new Set<string>();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.tx.run(() => this.loadOnce(job, document, { open, head, complete, widened }));
      } catch (error) {
        if (!(error instanceof ColumnMismatch) || attempt >= MAX_WIDENINGS) {
          if (isDataError(error)) throw new ExtractionError('bad_value', (error as Error).message);
          throw error;
        }
        widened.add(`${error.table}.${error.column}`);
        this.logger.log(`job ${job.id}: ${error.table}.${error.column} becomes text; starting over`);
      }
    }
  }

  private async loadOnce(
    job: JobRow,
    document: DocumentRow,
    input: { open: () => Promise<Readable>; head: Buffer; complete: boolean; widened: Set<string> },
  ): Promise<Loaded | undefined> {
    // The job row stays locked until this commits: a second delivery waits, then finds the job finished.
    const locked = await this.repository.lockJobForWorker(job.id);
    if (locked?.status !== 'running') return undefined;
    const client = await this.tx.client();
    await client.query(`SET LOCAL "TimeZone" = 'UTC'`);
    const schema = this.datasets.schemaName(job.tenant_id);
    const readerRole = await this.datasets.roleName(job.tenant_id);
    const { tables, warnings } = await extract(
      {
        ...input,
        detectedType: document.detected_type,
        size: document.size,
        filename: document.filename,
        jobId: job.id,
        settings: job.settings,
        limits: {
          sampleRows: this.config.EXTRACTION_SAMPLE_ROWS,
          maxRows: this.config.EXTRACTION_MAX_ROWS,
          maxColumns: this.config.EXTRACTION_MAX_COLUMNS,
          xlsxMaxBytes: this.config.EXTRACTION_XLSX_MAX_BYTES,
        },
      },
      (table, rows) => loadTable(client, { schema, table: table.name, readerRole }, table.columns, rows),
    );
    let total = 0;
    for (const [ordinal, table] of tables.entries()) {
      total += table.row_count;
      const row = await this.repository.insertTable({
        tenant_id: job.tenant_id,
        job_id: job.id,
        document_id: document.id,
        schema_name: schema,
        table_name: table.name,
        sheet: table.sheet ?? null,
        ordinal,
        columns: table.columns,
        row_count: table.row_count,
      });
      await this.events.record({
        tenantId: job.tenant_id,
        type: 'table.created',
        document_id: document.id,
        job_id: job.id,
        table_id: row.id,
        data: {
          name: table.name,
          schema,
          sheet: row.sheet,
          row_count: row.row_count,
          columns: table.columns,
        },
      });
    }
    await this.repository.finishJob(job.tenant_id, job.id, {
      status: 'succeeded',
      error: null,
      rows: total,
      warnings,
    });
    await this.repository.setDocumentStatus(job.tenant_id, document.id, 'processed', null);
    await this.events.record({
      tenantId: job.tenant_id,
      type: 'job.succeeded',
      document_id: document.id,
      job_id: job.id,
      data: { rows: total, tables: tables.map((t) => t.name), warnings: warnings.length },
    });
    return { tables, warnings, rows: total };
  }

  private async fail(job: JobRow, message: string, reason: string): Promise<void> {
    await this.tx.run(async () => {
      await this.repository.finishJob(job.tenant_id, job.id, {
        status: 'failed',
        error: message,
        rows: null,
        warnings: [],
      });
      await this.repository.setDocumentStatus(job.tenant_id, job.document_id, 'failed', message);
      await this.events.record({
        tenantId: job.tenant_id,
        type: 'job.failed',
        document_id: job.document_id,
        job_id: job.id,
        data: { reason, error: message },
      });
    });
  }
}
