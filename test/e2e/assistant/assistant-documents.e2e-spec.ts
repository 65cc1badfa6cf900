import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { extractDocument, upload } from '../documents/documents-support';
import { rowSet } from './fixtures';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let table: string;

const REGIONS = ['EMEA', 'AMER', 'APAC'];
/** An orders export as a user would upload it: a header row, dates, money, a few regions. */
const ORDERS_CSV = [
  'order_id,order_date,customer,region,quantity,amount',
  ...Array.from(
    { length: 60 },
    (_, i) =>
      `SO-${String(i + 1).padStart(4, '0')},2025-0${1 + (i % 6)}-1${i % 10},Customer ${i % 7},` +
      `${REGIONS[i % 3]},${1 + (i % 9)},${((i * 37) % 500) + 0.5}`,
  ),
].join('\n');

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  const uploaded = await upload(api.url, acme.ownerKey, 'orders.csv', ORDERS_CSV);
  expect(uploaded.status).toBe(201);
  const job = await extractDocument(api.url, acme.ownerKey, uploaded.body.id as string);
  expect(job.status).toBe('succeeded');
  const tables = await call(api.url, 'GET', `/api/v1/jobs/${job.id as string}/tables`, {
    credentials: acme.ownerKey,
  });
  table = (tables.body as unknown as Array<{ name: string }>)[0].name;
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

const post = async (path: string, body: Record<string, unknown>) =>
  (await call(api.url, 'POST', `/api/v1${path}`, { credentials: acme.ownerKey, body })) as unknown as {
    status: number;
    body: Record<string, unknown>;
  };

describe('the assistant over a table extracted from an uploaded CSV', () => {
  it('suggests only SQL that runs, for the extracted table', async () => {
    const res = await post('/ai/sql/suggest', { table, limit: 50 });
    expect(res.status).toBe(200);
    const suggestions = res.body.suggestions as Array<{ sql: string; tables: string[] }>;
    expect(suggestions.length).toBeGreaterThan(3);
    for (const suggestion of suggestions) {
      expect(suggestion.tables).toContain(table);
      const ran = await post('/data/query', { sql: suggestion.sql });
      expect({ sql: suggestion.sql, status: ran.status }).toEqual({ sql: suggestion.sql, status: 200 });
    }
  });

  it('answers "total amount by region" with what a hand-written query gives', async () => {
    const answer = await post('/ai/query', { question: 'total amount by region', execute: true });
    expect(answer.status).toBe(200);
    expect(answer.body.tables).toEqual([table]);
    const expected = await post('/data/query', {
      sql: `SELECT region, sum(amount) FROM ${table} GROUP BY region`,
    });
    expect(rowSet(answer.body.rows as unknown[][])).toEqual(rowSet(expected.body.rows as unknown[][]));
  });
});
