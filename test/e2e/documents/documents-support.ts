import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { call, type Credentials } from '../../support/auth';
import { waitFor } from '../../support/harness';

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

export type Body = Record<string, unknown> & { items?: Array<Record<string, unknown>> };

/** POST /documents as a browser form would: multipart with `file` (and `metadata` when given). */
export async function upload(
  baseUrl: string,
  credentials: Credentials,
  filename: string,
  bytes: Buffer | string,
  metadata?: unknown,
): Promise<{ status: number; body: Body; headers: Headers }> {
  const form = new FormData();
  if (metadata !== undefined)
    form.append('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
  form.append('file', new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)]), filename);
  const res = await fetch(`${baseUrl}/api/v1/documents`, {
    method: 'POST',
    headers: credentials.headers,
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : {}, headers: res.headers };
}

/** Queues a job and waits until it has finished, either way. */
export async function extractDocument(
  baseUrl: string,
  credentials: Credentials,
  documentId: string,
  configurationId?: string,
  timeoutMs = 30_000,
): Promise<Body> {
  const created = await call(baseUrl, 'POST', '/api/v1/jobs', {
    credentials,
    body: { document_id: documentId, ...(configurationId ? { configuration_id: configurationId } : {}) },
  });
  if (created.status !== 201)
    throw new Error(`POST /jobs: ${created.status} ${JSON.stringify(created.body)}`);
  return waitJob(baseUrl, credentials, created.body.id as string, timeoutMs);
}

export function waitJob(
  baseUrl: string,
  credentials: Credentials,
  jobId: string,
  timeoutMs = 30_000,
): Promise<Body> {
  return waitFor(
    async () => {
      const job = await call(baseUrl, 'GET', `/api/v1/jobs/${jobId}`, { credentials });
      return job.body.status === 'succeeded' || job.body.status === 'failed' ? job.body : undefined;
    },
    `job ${jobId} to finish`,
    timeoutMs,
    100,
  );
}

export async function text(
  baseUrl: string,
  credentials: Credentials,
  path: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, { headers: credentials.headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function parseCsv(csv: string, delimiter = ','): string[][] {
  const records: string[][] = parse(csv, {
    delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  return records;
}

/** A workbook with two sheets, as Excel would save it. */
export async function twoSheetWorkbook(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sales = workbook.addWorksheet('Sales');
  sales.addRow(['region', 'units', 'price', 'day']);
  sales.addRow(['north', 12, 9.5, new Date(Date.UTC(2025, 0, 15))]);
  sales.addRow(['south', 7, 11.25, new Date(Date.UTC(2025, 1, 1))]);
  const people = workbook.addWorksheet('People');
  people.addRow(['name', 'active']);
  people.addRow(['Ada', true]);
  people.addRow(['Grace', false]);
  people.addRow(['Linus', true]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
