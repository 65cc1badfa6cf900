import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import type { ColumnType } from './extraction/column-types';
import type { Modality } from './extraction/sniff';
import type { ExtractionSettings } from './extraction/settings';

export type DocumentStatus = 'uploaded' | 'processing' | 'processed' | 'failed';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface DocumentRow {
  id: string;
  tenant_id: string;
  filename: string;
  status: DocumentStatus;
  modality: Modality;
  detected_type: string;
  content_type: string;
  metadata: Record<string, unknown>;
  sha256: string;
  size: number;
  storage_path: string;
  source_table_id: string | null;
  error: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface ConfigurationRow {
  id: string;
  tenant_id: string;
  name: string;
  version: number;
  settings: ExtractionSettings;
  created_at: Date;
  updated_at: Date;
}

export interface JobRow {
  id: string;
  tenant_id: string;
  document_id: string;
  configuration_id: string | null;
  configuration_version: number | null;
  settings: ExtractionSettings;
  status: JobStatus;
  error: string | null;
  warnings: Array<{ table: string; message: string }>;
  rows: number | null;
  attempts: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface TableRow {
  id: string;
  tenant_id: string;
  job_id: string;
  document_id: string;
  schema_name: string;
  table_name: string;
  sheet: string | null;
  /** Its place among the job's tables (a workbook's sheet order). */
  ordinal: number;
  columns: Array<{ name: string; type: ColumnType }>;
  row_count: number;
  created_at: Date;
}

export interface EventRow {
  seq: number;
  tenant_id: string;
  event_type: string;
  document_id: string | null;
  job_id: string | null;
  configuration_id: string | null;
  table_id: string | null;
  data: Record<string, unknown>;
  actor: string;
  timestamp: Date;
}

export type EventLinks = Partial<Pick<EventRow, 'document_id' | 'job_id' | 'configuration_id' | 'table_id'>>;

/** bigint columns arrive as strings; the counts here stay far below 2^53. */
const numbers = <T extends object>(row: T, ...keys: Array<keyof T>): T => {
  for (const key of keys) if (row[key] !== null) (row as Record<keyof T, unknown>)[key] = Number(row[key]);
  return row;
};

type Paged<T> = [T[], number];

/**
 * Documents, configurations (and their versions), extraction jobs, extracted tables and their timelines. Every
 * read of tenant data takes the tenant id; the worker's reads by job id alone are named so.
 */
@Injectable()
export class DocumentsRepository {
  constructor(private readonly tx: Transactions) {}

  private async page<T extends object>(
    sql: string,
    params: unknown[],
    ...bigints: Array<keyof T>
  ): Promise<Paged<T>> {
    const rows = await this.tx.rows<T & { total: string }>(sql, params);
    const total = rows.length > 0 ? Number(rows[0].total) : 0;
    return [rows.map(({ total: _total, ...row }) => numbers(row as unknown as T, ...bigints)), total];
  }

  // Documents

  async insertDocument(row: Omit<DocumentRow, 'created_at' | 'updated_at' | 'error'>): Promise<DocumentRow> {
    const [saved] = await this.tx.rows<DocumentRow>(
      `INSERT INTO documents (id, tenant_id, filename, status, modality, detected_type, content_type, metadata,
                              sha256, size, storage_path, source_table_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        row.id,
        row.tenant_id,
        row.filename,
        row.status,
        row.modality,
        row.detected_type,
        row.content_type,
        JSON.stringify(row.metadata),
        row.sha256,
        row.size,
        row.storage_path,
        row.source_table_id,
        row.created_by,
      ],
    );
    return numbers(saved, 'size');
  }

  async document(tenantId: string, id: string): Promise<DocumentRow | undefined> {
    const [row] = await this.tx.rows<DocumentRow>(
      'SELECT * FROM documents WHERE tenant_id = $1 AND id = $2',
      [tenantId, id],
    );
    return row && numbers(row, 'size');
  }

  listDocuments(tenantId: string, offset: number, limit: number): Promise<Paged<DocumentRow>> {
    return this.page<DocumentRow>(
      `SELECT *, count(*) OVER () AS total FROM documents WHERE tenant_id = $1
        ORDER BY created_at DESC, id OFFSET $2 LIMIT $3`,
      [tenantId, offset, limit],
      'size',
    );
  }

  async setDocumentStatus(
    tenantId: string,
    id: string,
    status: DocumentStatus,
    error: string | null,
  ): Promise<void> {
    await this.tx.rows(
      'UPDATE documents SET status = $3, error = $4, updated_at = clock_timestamp() WHERE tenant_id = $1 AND id = $2',
      [tenantId, id, status, error],
    );
  }

  // Configurations

  async insertConfiguration(
    tenantId: string,
    name: string,
    settings: ExtractionSettings,
    actor: string,
  ): Promise<ConfigurationRow> {
    const [row] = await this.tx.rows<ConfigurationRow>(
      `INSERT INTO extraction_configurations (tenant_id, name, settings) VALUES ($1, $2, $3) RETURNING *`,
      [tenantId, name, JSON.stringify(settings)],
    );
    await this.insertVersion(row, actor);
    return row;
  }

  /** A new version: the row moves on, the versions table keeps every one (each job names the one it used). */
  async updateConfiguration(
    tenantId: string,
    id: string,
    name: string,
    settings: ExtractionSettings,
    actor: string,
  ): Promise<ConfigurationRow | undefined> {
    const [row] = await this.tx.rows<ConfigurationRow>(
      `UPDATE extraction_configurations SET name = $3, settings = $4, version = version + 1, updated_at = clock_timestamp()
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, name, JSON.stringify(settings)],
    );
    if (row) await this.insertVersion(row, actor);
    return row;
  }

  private async insertVersion(row: ConfigurationRow, actor: string): Promise<void> {
    await this.tx.rows(
      `INSERT INTO extraction_configuration_versions (configuration_id, version, name, settings, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.id, row.version, row.name, JSON.stringify(row.settings), actor, row.updated_at],
    );
  }

  /** The current version, or `version` as it was (created_at/updated_at: the configuration's, the version's). */
  async configuration(tenantId: string, id: string, version?: number): Promise<ConfigurationRow | undefined> {
    const [row] = await this.tx.rows<ConfigurationRow>(
      version === undefined
        ? 'SELECT * FROM extraction_configurations WHERE tenant_id = $1 AND id = $2'
        : `SELECT c.id, c.tenant_id, v.name, v.version, v.settings, c.created_at, v.created_at AS updated_at
             FROM extraction_configurations c
             JOIN extraction_configuration_versions v ON v.configuration_id = c.id AND v.version = $3
            WHERE c.tenant_id = $1 AND c.id = $2`,
      version === undefined ? [tenantId, id] : [tenantId, id, version],
    );
    return row;
  }

  listConfigurations(tenantId: string, offset: number, limit: number): Promise<Paged<ConfigurationRow>> {
    return this.page<ConfigurationRow>(
      `SELECT *, count(*) OVER () AS total FROM extraction_configurations WHERE tenant_id = $1
        ORDER BY created_at DESC, id OFFSET $2 LIMIT $3`,
      [tenantId, offset, limit],
    );
  }

  // Jobs

  /** undefined when the document already has a job queued or running (the in-flight unique index). */
  async insertJob(
    row: Pick<
      JobRow,
      'tenant_id' | 'document_id' | 'configuration_id' | 'configuration_version' | 'settings' | 'created_by'
    >,
  ): Promise<JobRow | undefined> {
    const [saved] = await this.tx.rows<JobRow>(
      `INSERT INTO extraction_jobs (tenant_id, document_id, configuration_id, configuration_version, settings, status, created_by)
       VALUES ($1, $2, $3, $4, $5, 'queued', $6)
       ON CONFLICT (document_id) WHERE status IN ('queued', 'running') DO NOTHING
       RETURNING *`,
      [
        row.tenant_id,
        row.document_id,
        row.configuration_id,
        row.configuration_version,
        JSON.stringify(row.settings),
        row.created_by,
      ],
    );
    return saved && numbers(saved, 'rows');
  }

  async job(tenantId: string, id: string): Promise<JobRow | undefined> {
    const [row] = await this.tx.rows<JobRow>(
      'SELECT * FROM extraction_jobs WHERE tenant_id = $1 AND id = $2',
      [tenantId, id],
    );
    return row && numbers(row, 'rows');
  }

  /** The worker's read: locks the job row until the transaction ends, so one attempt runs at a time. */
  async lockJobForWorker(id: string): Promise<JobRow | undefined> {
    const [row] = await this.tx.rows<JobRow>('SELECT * FROM extraction_jobs WHERE id = $1 FOR UPDATE', [id]);
    return row && numbers(row, 'rows');
  }

  listJobs(
    tenantId: string,
    filter: { document_id?: string; status?: JobStatus },
    offset: number,
    limit: number,
  ): Promise<Paged<JobRow>> {
    return this.page<JobRow>(
      `SELECT *, count(*) OVER () AS total FROM extraction_jobs
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR document_id = $2) AND ($3::text IS NULL OR status = $3)
        ORDER BY created_at DESC, id OFFSET $4 LIMIT $5`,
      [tenantId, filter.document_id ?? null, filter.status ?? null, offset, limit],
      'rows',
    );
  }

  async startJob(tenantId: string, id: string): Promise<JobRow> {
    const [row] = await this.tx.rows<JobRow>(
      `UPDATE extraction_jobs SET status = 'running', attempts = attempts + 1, error = NULL,
              started_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id],
    );
    return numbers(row, 'rows');
  }

  async finishJob(
    tenantId: string,
    id: string,
    outcome: {
      status: 'succeeded' | 'failed';
      error: string | null;
      rows: number | null;
      warnings: unknown[];
    },
  ): Promise<void> {
    await this.tx.rows(
      `UPDATE extraction_jobs SET status = $3, error = $4, rows = $5, warnings = $6, finished_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, outcome.status, outcome.error, outcome.rows, JSON.stringify(outcome.warnings)],
    );
  }

  // Tables

  async insertTable(row: Omit<TableRow, 'id' | 'created_at'>): Promise<TableRow> {
    const [saved] = await this.tx.rows<TableRow>(
      `INSERT INTO extracted_tables (tenant_id, job_id, document_id, schema_name, table_name, sheet, ordinal, columns, row_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        row.tenant_id,
        row.job_id,
        row.document_id,
        row.schema_name,
        row.table_name,
        row.sheet,
        row.ordinal,
        JSON.stringify(row.columns),
        row.row_count,
      ],
    );
    return numbers(saved, 'row_count');
  }

  async table(tenantId: string, id: string): Promise<TableRow | undefined> {
    const [row] = await this.tx.rows<TableRow>(
      'SELECT * FROM extracted_tables WHERE tenant_id = $1 AND id = $2',
      [tenantId, id],
    );
    return row && numbers(row, 'row_count');
  }

  async tablesOf(tenantId: string, of: { job_id?: string; document_id?: string }): Promise<TableRow[]> {
    const rows = await this.tx.rows<TableRow>(
      `SELECT * FROM extracted_tables
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR job_id = $2) AND ($3::uuid IS NULL OR document_id = $3)
        ORDER BY created_at, job_id, ordinal`,
      [tenantId, of.job_id ?? null, of.document_id ?? null],
    );
    return rows.map((row) => numbers(row, 'row_count'));
  }

  /** A page of a table's rows in load order (ctid: tables are written once, by one COPY, and never updated). */
  async tableRows(table: TableRow, offset: number, limit: number): Promise<Array<Record<string, unknown>>> {
    return this.tx.rows<Record<string, unknown>>(
      `SELECT ${table.columns.map((c) => exportExpression(c)).join(', ')}
         FROM ${qualified(table)} ORDER BY ctid OFFSET $1 LIMIT $2`,
      [offset, limit],
    );
  }

  /** The table's rows as the export writes them, in load order. */
  exportQuery(table: TableRow): string {
    return `SELECT ${table.columns.map((c) => exportExpression(c)).join(', ')} FROM ${qualified(table)} ORDER BY ctid`;
  }

  // Timelines

  async appendEvent(row: Omit<EventRow, 'seq' | 'timestamp'>): Promise<EventRow> {
    const [saved] = await this.tx.rows<EventRow>(
      `INSERT INTO document_events (tenant_id, event_type, document_id, job_id, configuration_id, table_id, data, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        row.tenant_id,
        row.event_type,
        row.document_id,
        row.job_id,
        row.configuration_id,
        row.table_id,
        JSON.stringify(row.data),
        row.actor,
      ],
    );
    return numbers(saved, 'seq');
  }

  async events(
    tenantId: string,
    of: 'document_id' | 'job_id' | 'configuration_id',
    id: string,
    afterSeq: number,
    limit: number,
  ): Promise<EventRow[]> {
    const rows = await this.tx.rows<EventRow>(
      `SELECT * FROM document_events WHERE tenant_id = $1 AND ${of} = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [tenantId, id, afterSeq, limit],
    );
    return rows.map((row) => numbers(row, 'seq'));
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function qualified(table: Pick<TableRow, 'schema_name' | 'table_name'>): string {
  return `${quote(table.schema_name)}.${quote(table.table_name)}`;
}

/**
 * Each column as the source would have written it: booleans `true`/`false`, timestamps in ISO-8601 UTC, numbers
 * and dates in Postgres's own text form (exact: numeric keeps its scale), JSON as JSON text.
 */
function exportExpression(column: { name: string; type: ColumnType }): string {
  const name = quote(column.name);
  switch (column.type) {
    case 'timestamptz':
      return `to_char(${name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${name}`;
    case 'jsonb':
      return `${name}::text AS ${name}`;
    case 'boolean':
      return `CASE WHEN ${name} THEN 'true' WHEN NOT ${name} THEN 'false' END AS ${name}`;
    default:
      return `${name}::text AS ${name}`;
  }
}
