import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { Client } from 'pg';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { type Frame, keyOf, TestSocket } from '../../support/ws';
import {
  type Body,
  extractDocument,
  parseCsv,
  sha256,
  text,
  twoSheetWorkbook,
  upload,
} from './documents-support';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let storageDir: string;
let db: Client;
let acme: OnboardedTenant;
let globex: OnboardedTenant;
let owner: Credentials;

const UPLOAD_LIMIT = 256 * 1024;

beforeAll(async () => {
  storageDir = await mkdtemp(path.join(os.tmpdir(), 'conflux-documents-'));
  backends = await createTestBackends({ STORAGE_DIR: storageDir, UPLOAD_LIMIT: String(UPLOAD_LIMIT) });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  globex = await onboardTenant(api.url, admin, 'globex');
  owner = acme.ownerKey;
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  await rm(storageDir, { recursive: true, force: true });
});

const get = (p: string, credentials: Credentials = owner) =>
  call(api.url, 'GET', `/api/v1${p}`, { credentials });

async function query(sql: string): Promise<unknown[][]> {
  const res = await call(api.url, 'POST', '/api/v1/data/query', { credentials: owner, body: { sql } });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.rows as unknown[][];
}

/** Files the local store holds for the tenant's documents (temporary ones included). */
async function storedFiles(tenant: string): Promise<string[]> {
  return readdir(path.join(storageDir, tenant, 'documents')).catch(() => []);
}

async function onlyTable(job: Body): Promise<Body> {
  const tables = await get(`/jobs/${job.id as string}/tables`);
  expect(tables.status).toBe(200);
  const list = tables.body as unknown as Body[];
  expect(list).toHaveLength(1);
  return list[0];
}

const SALES_CSV = [
  'id,name,zip,amount,active,day,note',
  '1,Widget,02134,12.50,true,2025-01-15,plain',
  '2,"Gadget, large",00501,3,false,2025-02-28,"two',
  'lines"',
  '3,Gizmo,10001,-0.75,true,2024-12-31,',
].join('\n');

describe('a CSV document, end to end', () => {
  let document: Body;
  let job: Body;
  let table: Body;

  it('stores the upload with its real SHA-256, size, type from the bytes and metadata', async () => {
    const res = await upload(api.url, owner, 'sales q1.csv', SALES_CSV, { source: 'crm', batch: 7 });
    expect(res.status).toBe(201);
    document = res.body;
    expect(document).toMatchObject({
      tenant_id: 'acme',
      filename: 'sales q1.csv',
      status: 'uploaded',
      modality: 'tabular',
      detected_type: 'csv',
      metadata: { source: 'crm', batch: 7 },
      sha256: sha256(SALES_CSV),
      size: Buffer.byteLength(SALES_CSV),
    });
    const listed = await get('/documents');
    expect(listed.body.total).toBeGreaterThanOrEqual(1);
    expect(listed.body.items?.map((d) => d.id)).toContain(document.id);
    const item = listed.body.items?.find((d) => d.id === document.id);
    for (const field of [
      'id',
      'tenant_id',
      'filename',
      'status',
      'modality',
      'metadata',
      'sha256',
      'size',
      'created_at',
      'updated_at',
    ])
      expect(item).toHaveProperty(field);
    const download = await text(api.url, owner, `/api/v1/documents/${document.id as string}/download`);
    expect(download.status).toBe(200);
    expect(download.text).toBe(SALES_CSV);
    expect(download.headers.get('content-type')).toContain('text/csv');
  });

  it('extracts it by a job into a typed table of the tenant schema', async () => {
    job = await extractDocument(api.url, owner, document.id as string);
    expect(job).toMatchObject({
      status: 'succeeded',
      rows: 3,
      attempts: 1,
      error: null,
      document_id: document.id,
    });
    expect((await get(`/documents/${document.id as string}`)).body.status).toBe('processed');
    table = await onlyTable(job);
    expect(table).toMatchObject({
      row_count: 3,
      schema: 'tenant_acme',
      document_id: document.id,
      job_id: job.id,
    });
    expect(table.name).toMatch(/^sales_q1_[0-9a-f]{8}$/);
    expect(table.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'text' },
      { name: 'zip', type: 'text' },
      { name: 'amount', type: 'numeric' },
      { name: 'active', type: 'boolean' },
      { name: 'day', type: 'date' },
      { name: 'note', type: 'text' },
    ]);
    const timeline = await get(`/jobs/${job.id as string}/events`);
    expect((timeline.body as unknown as Body[]).map((e) => e.event_type)).toEqual([
      'job.created',
      'job.started',
      'table.created',
      'job.succeeded',
    ]);
    expect((await get(`/documents/${document.id as string}/tables`)).body).toEqual([table]);
  });

  it('is readable through /data/query with its types', async () => {
    const rows = await query(
      `SELECT id, zip, amount, active, day::text, note FROM ${table.name as string} ORDER BY id`,
    );
    expect(rows).toEqual([
      [1, '02134', '12.50', true, '2025-01-15', 'plain'],
      [2, '00501', '3', false, '2025-02-28', 'two\nlines'],
      [3, '10001', '-0.75', true, '2024-12-31', null],
    ]);
  });

  it('pages its rows', async () => {
    const page = await get(`/tables/${table.id as string}/rows?page=2&limit=2`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(3);
    expect(page.body.items).toEqual([
      {
        id: '3',
        name: 'Gizmo',
        zip: '10001',
        amount: '-0.75',
        active: 'true',
        day: '2024-12-31',
        note: null,
      },
    ]);
  });

  it('exports it back to the same CSV, stored as a produced document on the job’s timeline', async () => {
    const exported = await text(api.url, owner, `/api/v1/tables/${table.id as string}/export.csv`);
    expect(exported.status).toBe(200);
    expect(parseCsv(exported.text)).toEqual(parseCsv(SALES_CSV));
    const produced = await get(`/documents/${exported.headers.get('x-document-id') as string}`);
    expect(produced.body).toMatchObject({
      source_table_id: table.id,
      status: 'processed',
      detected_type: 'csv',
      sha256: sha256(exported.text),
    });
    const timeline = (await get(`/jobs/${job.id as string}/events`)).body as unknown as Body[];
    expect(timeline.at(-1)).toMatchObject({ event_type: 'table.exported', table_id: table.id });
  });

  it('keeps a chain of custody that verifies, and stops verifying when the audit table is altered', async () => {
    const chain = await get(`/documents/${document.id as string}/chain`);
    expect(chain.status).toBe(200);
    const events = chain.body.events as Body[];
    expect(events.map((e) => e.action)).toEqual([
      'document.uploaded',
      'document.downloaded',
      'job.created',
      'job.started',
      'table.created',
      'job.succeeded',
      'table.exported',
    ]);
    expect(chain.body.verified).toBe(true);
    expect(events[0]).toMatchObject({
      performed_by: expect.stringMatching(/^api_key:/),
      metadata: expect.any(Object),
    });
    for (let i = 0; i < events.length; i += 1) {
      expect(events[i].hash).toMatch(/^[0-9a-f]{64}$/);
      expect(events[i].prev_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    // As the superuser, with the append-only trigger out of the way: what someone with database access could do.
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
    try {
      await db.query(
        `UPDATE audit_events SET details = details || '{"size": 1}'
          WHERE resource_type = 'document' AND resource_id = $1 AND event_type = 'document.uploaded'`,
        [document.id],
      );
    } finally {
      await db.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
    }
    const tampered = await get(`/documents/${document.id as string}/chain`);
    expect(tampered.body.verified).toBe(false);
  });
});

describe('other tabular formats', () => {
  it('reads a TSV', async () => {
    const tsv = 'city\tpopulation\tcoastal\nLisbon\t545923\ttrue\nMadrid\t3223334\tfalse\n';
    const doc = await upload(api.url, owner, 'cities.txt', tsv);
    expect(doc.body).toMatchObject({ detected_type: 'tsv', modality: 'tabular' });
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job.status).toBe('succeeded');
    const table = await onlyTable(job);
    expect(await query(`SELECT city, population FROM ${table.name as string} ORDER BY population`)).toEqual([
      ['Lisbon', 545923],
      ['Madrid', 3223334],
    ]);
    const exported = await text(api.url, owner, `/api/v1/tables/${table.id as string}/export.csv`);
    expect(parseCsv(exported.text)).toEqual(parseCsv(tsv, '\t'));
  });

  it('decodes Windows-1252 with semicolons', async () => {
    const source = 'nom;ville;prix\nCafé crème;Orléans;2,50\nCrêpe;Besançon;€4\nÜber;Zürich;5\n';
    const bytes = iconv.encode(source, 'windows-1252');
    expect(bytes.includes(Buffer.from('é'))).toBe(false);
    const doc = await upload(api.url, owner, 'menu.csv', bytes);
    expect(doc.body).toMatchObject({ detected_type: 'csv', sha256: sha256(bytes) });
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job.status).toBe('succeeded');
    const table = await onlyTable(job);
    expect(table.columns).toEqual([
      { name: 'nom', type: 'text' },
      { name: 'ville', type: 'text' },
      { name: 'prix', type: 'text' },
    ]);
    expect(await query(`SELECT nom, ville, prix FROM ${table.name as string}`)).toEqual([
      ['Café crème', 'Orléans', '2,50'],
      ['Crêpe', 'Besançon', '€4'],
      ['Über', 'Zürich', '5'],
    ]);
    const exported = await text(api.url, owner, `/api/v1/tables/${table.id as string}/export.csv`);
    expect(parseCsv(exported.text)).toEqual(parseCsv(source, ';'));
  });

  it('reads UTF-16 with a BOM', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('k,v\nα,1\nβ,2\n', 'utf-16le')]);
    const doc = await upload(api.url, owner, 'greek.csv', bytes);
    expect(doc.body.detected_type).toBe('csv');
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    const table = await onlyTable(job);
    expect(await query(`SELECT k, v FROM ${table.name as string} ORDER BY v`)).toEqual([
      ['α', 1],
      ['β', 2],
    ]);
  });

  it('loads each sheet of an XLSX workbook as its own table', async () => {
    const doc = await upload(api.url, owner, 'report.xlsx', await twoSheetWorkbook());
    expect(doc.body).toMatchObject({ detected_type: 'xlsx', modality: 'tabular' });
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job).toMatchObject({ status: 'succeeded', rows: 5 });
    const tables = (await get(`/jobs/${job.id as string}/tables`)).body as unknown as Body[];
    expect(tables.map((t) => [t.sheet, t.row_count])).toEqual([
      ['Sales', 2],
      ['People', 3],
    ]);
    const [sales, people] = tables;
    expect(sales.columns).toEqual([
      { name: 'region', type: 'text' },
      { name: 'units', type: 'bigint' },
      { name: 'price', type: 'numeric' },
      { name: 'day', type: 'date' },
    ]);
    expect(
      await query(`SELECT region, units, price, day::text FROM ${sales.name as string} ORDER BY units`),
    ).toEqual([
      ['south', 7, '11.25', '2025-02-01'],
      ['north', 12, '9.5', '2025-01-15'],
    ]);
    const exported = await text(api.url, owner, `/api/v1/tables/${people.id as string}/export.csv`);
    expect(parseCsv(exported.text)).toEqual([
      ['name', 'active'],
      ['Ada', 'true'],
      ['Grace', 'false'],
      ['Linus', 'true'],
    ]);
  });

  it('loads a JSON array of objects, nested values as jsonb', async () => {
    const records = [
      { sku: 'A-1', qty: 3, price: 1.5, tags: { color: 'red' }, sizes: ['s', 'm'] },
      { sku: 'B-2', qty: 10, price: 20, tags: { color: 'blue' }, sizes: [] },
      { sku: 'C-3', qty: 1, extra: 'late key' },
    ];
    const doc = await upload(api.url, owner, 'items.json', JSON.stringify(records, null, 2));
    expect(doc.body).toMatchObject({ detected_type: 'json', modality: 'tabular' });
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job.status).toBe('succeeded');
    const table = await onlyTable(job);
    expect(table.columns).toEqual([
      { name: 'sku', type: 'text' },
      { name: 'qty', type: 'bigint' },
      { name: 'price', type: 'numeric' },
      { name: 'tags', type: 'jsonb' },
      { name: 'sizes', type: 'jsonb' },
      { name: 'extra', type: 'text' },
    ]);
    expect(
      await query(
        `SELECT sku, qty + 1, tags->>'color', jsonb_array_length(sizes), extra FROM ${table.name as string} ORDER BY sku`,
      ),
    ).toEqual([
      ['A-1', 4, 'red', 2, null],
      ['B-2', 11, 'blue', 0, null],
      ['C-3', 2, null, null, 'late key'],
    ]);
  });
});

describe('types from the bytes, limits and failures', () => {
  it('detects PNG bytes named x.csv as an image, and refuses to extract it', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 1),
    ]);
    const doc = await upload(api.url, owner, 'x.csv', png);
    expect(doc.status).toBe(201);
    expect(doc.body).toMatchObject({ detected_type: 'png', modality: 'image', content_type: 'image/png' });
    const job = await call(api.url, 'POST', '/api/v1/jobs', {
      credentials: owner,
      body: { document_id: doc.body.id },
    });
    expect(job.status).toBe(400);
    expect(job.body.error_code).toBe('VALIDATION_ERROR');
  });

  it('refuses an executable (ELF header) with 415 and stores nothing', async () => {
    const before = await storedFiles('acme');
    const total = (await get('/documents')).body.total;
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      Buffer.alloc(200_000, 0x41),
    ]);
    const res = await upload(api.url, owner, 'report.csv', elf);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      error_code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { detected_type: 'elf' },
    });
    expect(await storedFiles('acme')).toEqual(before);
    expect((await get('/documents')).body.total).toBe(total);
  });

  it('refuses a ZIP that is not a workbook', async () => {
    const zip = Buffer.concat([
      Buffer.from('PK\x03\x04', 'latin1'),
      Buffer.alloc(26),
      Buffer.from('notes/readme.txt'),
    ]);
    const res = await upload(api.url, owner, 'notes.xlsx', zip);
    expect(res.status).toBe(415);
  });

  it('answers 413 past UPLOAD_LIMIT and leaves no object behind', async () => {
    const before = await storedFiles('acme');
    const total = (await get('/documents')).body.total;
    const big = `a,b\n${'1,2\n'.repeat(UPLOAD_LIMIT / 4 + 1000)}`;
    const res = await upload(api.url, owner, 'big.csv', big).catch((error: Error) => ({
      // The server may close the connection before the client has sent everything.
      status: 413,
      body: { error_code: 'PAYLOAD_TOO_LARGE', cause: error.message },
      headers: new Headers(),
    }));
    expect(res.status).toBe(413);
    expect(res.body.error_code).toBe('PAYLOAD_TOO_LARGE');
    expect(await storedFiles('acme')).toEqual(before);
    expect((await get('/documents')).body.total).toBe(total);
  });

  it('refuses metadata that is not a JSON object, keeping nothing', async () => {
    const before = await storedFiles('acme');
    const res = await upload(api.url, owner, 'a.csv', 'a,b\n1,2\n', '[1, 2]');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('metadata');
    expect(await storedFiles('acme')).toEqual(before);
  });

  it('fails the job of a malformed CSV with the line number, and the document with it', async () => {
    const doc = await upload(api.url, owner, 'broken.csv', 'a,b\n1,2\n3,4\n5,"unterminated\n6,7\n');
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/line 4/);
    const document = (await get(`/documents/${doc.body.id as string}`)).body;
    expect(document).toMatchObject({ status: 'failed', error: job.error });
    expect((await get(`/jobs/${job.id as string}/tables`)).body).toEqual([]);
    const events = (await get(`/documents/${doc.body.id as string}/events`)).body as unknown as Body[];
    expect(events.at(-1)).toMatchObject({ event_type: 'job.failed', data: { reason: 'malformed' } });
  });

  it('reports ragged rows and keeps them', async () => {
    const doc = await upload(api.url, owner, 'ragged.csv', 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n');
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job.status).toBe('succeeded');
    expect(job.warnings).toEqual([
      { table: expect.any(String), message: expect.stringContaining('line 3: 2 values') },
      { table: expect.any(String), message: expect.stringContaining('line 4: 4 values') },
    ]);
    const table = await onlyTable(job);
    expect(await query(`SELECT a, b, c FROM ${table.name as string} ORDER BY a`)).toEqual([
      [1, 2, 3],
      [4, 5, null],
      [6, 7, 8],
    ]);
  });

  it('makes a column text when a value past the sample does not fit its inferred type', async () => {
    const rows = Array.from({ length: 1500 }, (_, i) => `${i},${i === 1400 ? 'n/a' : i * 2}`);
    const doc = await upload(api.url, owner, 'late.csv', `k,v\n${rows.join('\n')}\n`);
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    expect(job).toMatchObject({ status: 'succeeded', rows: 1500 });
    const table = await onlyTable(job);
    expect(table.columns).toEqual([
      { name: 'k', type: 'bigint' },
      { name: 'v', type: 'text' },
    ]);
    expect(await query(`SELECT v FROM ${table.name as string} WHERE k = 1400`)).toEqual([['n/a']]);
  });
});

describe('configurations', () => {
  it('keeps every version, and a job records the one it used', async () => {
    const created = await call(api.url, 'POST', '/api/v1/configurations', {
      credentials: owner,
      body: { name: 'pipes', settings: { delimiter: '|', column_types: { code: 'text' } } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      version: 1,
      settings: { parser: 'auto', delimiter: '|', header_row: true },
    });
    const id = created.body.id as string;
    const updated = await call(api.url, 'PUT', `/api/v1/configurations/${id}`, {
      credentials: owner,
      body: { name: 'pipes v2', settings: { delimiter: '|', skip_rows: 1, column_types: { code: 'text' } } },
    });
    expect(updated.body).toMatchObject({ version: 2, name: 'pipes v2', settings: { skip_rows: 1 } });
    expect((await get(`/configurations/${id}?version=1`)).body).toMatchObject({ version: 1, name: 'pipes' });
    expect((await get(`/configurations/${id}`)).body).toMatchObject({ version: 2 });
    expect((await get(`/configurations/${id}/events`)).body).toEqual([
      expect.objectContaining({
        event_type: 'configuration.created',
        data: expect.objectContaining({ version: 1 }),
      }),
      expect.objectContaining({
        event_type: 'configuration.updated',
        data: expect.objectContaining({ version: 2 }),
      }),
    ]);

    const doc = await upload(
      api.url,
      owner,
      'codes.csv',
      'exported by legacy system\ncode|label\n001|one\n002|two\n',
    );
    const job = await extractDocument(api.url, owner, doc.body.id as string, id);
    expect(job).toMatchObject({ status: 'succeeded', configuration_id: id, configuration_version: 2 });
    const table = await onlyTable(job);
    expect(table.columns).toEqual([
      { name: 'code', type: 'text' },
      { name: 'label', type: 'text' },
    ]);
    expect(await query(`SELECT code, label FROM ${table.name as string} ORDER BY code`)).toEqual([
      ['001', 'one'],
      ['002', 'two'],
    ]);
  });

  it('refuses settings that are missing or do not hold together', async () => {
    for (const settings of [
      { parser: 'pdf' },
      { delimiter: ';;' },
      { encoding: 'klingon-8' },
      { column_types: { a: 'money' } },
      undefined,
      'csv',
    ]) {
      const res = await call(api.url, 'POST', '/api/v1/configurations', {
        credentials: owner,
        body: { name: 'bad', ...(settings === undefined ? {} : { settings }) },
      });
      expect([400, 422]).toContain(res.status);
      expect(res.body.error_code).toBe('VALIDATION_ERROR');
    }
  });
});

describe('realtime', () => {
  it('publishes the document’s and the job’s changes on the tenant’s documents topic only', async () => {
    const watch = async (tenant: OnboardedTenant) => {
      const socket = await TestSocket.open(
        api.url,
        `/ws/realtime?access_token=${encodeURIComponent(keyOf(tenant))}`,
      );
      socket.send({ subscribe: 'documents' });
      await socket.next((f) => f.type === 'subscribed', 'the documents subscription');
      return socket;
    };
    const mine = await watch(acme);
    const theirs = await watch(globex);
    try {
      const doc = await upload(api.url, owner, 'live.csv', 'a,b\n1,2\n');
      const job = await extractDocument(api.url, owner, doc.body.id as string);
      const types = async () => {
        await mine.next(
          (f) => (f.msg as Frame | undefined)?.event_type === 'job.succeeded',
          'job.succeeded on the topic',
        );
        return mine.frames.filter((f) => f.topic === 'documents' && 'msg' in f).map((f) => f.msg as Frame);
      };
      const messages = await types();
      expect(messages.map((m) => m.event_type)).toEqual([
        'document.uploaded',
        'job.created',
        'job.started',
        'table.created',
        'job.succeeded',
      ]);
      expect(messages[1]).toMatchObject({
        resource_id: job.id,
        data: { document_id: doc.body.id, job_id: job.id },
      });
      expect(theirs.frames.filter((f) => 'msg' in f)).toEqual([]);
    } finally {
      mine.close();
      theirs.close();
    }
  });
});

describe('tenancy', () => {
  it('answers 404 to another tenant for every document, job and table id', async () => {
    const doc = await upload(api.url, owner, 'mine.csv', 'a\n1\n');
    const job = await extractDocument(api.url, owner, doc.body.id as string);
    const table = await onlyTable(job);
    const config = await call(api.url, 'POST', '/api/v1/configurations', {
      credentials: owner,
      body: { name: 'c', settings: {} },
    });
    const foreign = globex.ownerKey;
    const paths = [
      `/documents/${doc.body.id as string}`,
      `/documents/${doc.body.id as string}/download`,
      `/documents/${doc.body.id as string}/events`,
      `/documents/${doc.body.id as string}/tables`,
      `/documents/${doc.body.id as string}/chain`,
      `/jobs/${job.id as string}`,
      `/jobs/${job.id as string}/events`,
      `/jobs/${job.id as string}/tables`,
      `/tables/${table.id as string}`,
      `/tables/${table.id as string}/rows`,
      `/tables/${table.id as string}/export.csv`,
      `/configurations/${config.body.id as string}`,
      `/configurations/${config.body.id as string}/events`,
    ];
    for (const p of paths) {
      const res = await get(p, foreign);
      expect([p, res.status]).toEqual([p, 404]);
    }
    expect((await get(`/documents/${doc.body.id as string}/chain`, foreign)).body.error_code).toBe(
      'DOCUMENT_NOT_FOUND',
    );
    const steal = await call(api.url, 'POST', '/api/v1/jobs', {
      credentials: foreign,
      body: { document_id: doc.body.id },
    });
    expect(steal.status).toBe(404);
    const withConfig = await call(api.url, 'POST', '/api/v1/jobs', {
      credentials: foreign,
      body: {
        document_id: (await upload(api.url, foreign, 'g.csv', 'a\n1\n')).body.id,
        configuration_id: config.body.id,
      },
    });
    expect(withConfig.status).toBe(404);
    expect((await get('/documents', foreign)).body.items?.map((d) => d.tenant_id)).toEqual(['globex']);
  });
});
