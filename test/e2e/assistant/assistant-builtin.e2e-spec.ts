import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  adminToken,
  apiKey,
  bearer,
  call,
  type Credentials,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import type { RunningApi } from '../../support/harness';
import { type AssistantBackends, rowSet, startWithTables } from './fixtures';

/** Low enough for the rate-limit test to reach it, above what the other tests spend in a minute. */
const AI_PER_MINUTE = 40;

let setup: AssistantBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let initech: OnboardedTenant;
let viewer: Credentials;

interface Suggestion {
  sql: string;
  title: string;
  explanation: string;
  tables: string[];
}
type SuggestBody = { suggestions: Suggestion[]; source: string; warning?: string };
type AnswerBody = {
  sql: string;
  explanation: string;
  source: string;
  tables: string[];
  warning?: string;
  columns?: Array<{ name: string; type: string }>;
  rows?: unknown[][];
  row_count?: number;
};

beforeAll(async () => {
  setup = await startWithTables({ RATE_LIMIT_AI_PER_MINUTE: String(AI_PER_MINUTE) });
  ({ api, acme } = setup);
  initech = await onboardTenant(api.url, setup.admin, 'initech');
  const key = await call(api.url, 'POST', '/api/v1/api-keys', {
    credentials: acme.ownerKey,
    body: { name: 'viewer', role: 'viewer' },
  });
  viewer = apiKey(key.body.api_key as string);
  // Names that need quoting, and types no aggregate or DISTINCT takes (json, arrays, intervals).
  await setup.db.query(`CREATE TABLE tenant_acme."Odd Names" (
    "order" text, "Total Amount" numeric, "when" date, "user" text, payload json, labels text[], took interval)`);
  await setup.db.query(`INSERT INTO tenant_acme."Odd Names" VALUES
    ('a', 1.5, '2025-01-01', 'ann', '{"x": 1}', '{red}', '1 hour'),
    ('b', NULL, '2025-01-02', 'bob', '[]', '{}', NULL)`);
});

afterAll(async () => {
  await setup?.stop();
});

async function suggest(
  body: Record<string, unknown>,
  credentials = acme.ownerKey,
  path = '/api/v1/ai/sql/suggest',
) {
  const res = await call(api.url, 'POST', path, { credentials, body });
  return { status: res.status, body: res.body as unknown as SuggestBody & Record<string, unknown> };
}

async function ask(question: string, extra: Record<string, unknown> = {}) {
  const res = await call(api.url, 'POST', '/api/v1/ai/query', {
    credentials: acme.ownerKey,
    body: { question, ...extra },
  });
  return { status: res.status, body: res.body as unknown as AnswerBody & Record<string, unknown> };
}

async function dataQuery(sql: string, credentials = acme.ownerKey) {
  const res = await call(api.url, 'POST', '/api/v1/data/query', {
    credentials,
    body: { sql, limit: 10_000 },
  });
  return { status: res.status, body: res.body as { rows: unknown[][]; message?: string } };
}

/** The same query as the tenant role would run it, straight on the database (the reference answer). */
async function reference(sql: string): Promise<unknown[][]> {
  const res = await dataQuery(sql);
  expect(res.status).toBe(200);
  return res.body.rows;
}

describe('POST /ai/sql/suggest (built in)', () => {
  it('suggests SQL for every table, and every suggestion runs through POST /data/query', async () => {
    const tables = [
      'focus_billing',
      'sales_orders',
      'tenant_pipeline_runs',
      'tenant_step_logs',
      'tenant_dq_results',
      'Odd Names',
    ];
    const all: Suggestion[] = [];
    for (const table of tables) {
      const res = await suggest({ table, limit: 50 });
      expect(res.status).toBe(200);
      expect(res.body.source).toBe('builtin');
      expect(res.body.warning).toBeUndefined();
      expect(res.body.suggestions.length).toBeGreaterThanOrEqual(5);
      for (const s of res.body.suggestions) {
        expect(s.tables).toContain(table);
        expect(s.title.length).toBeGreaterThan(0);
        expect(s.explanation.length).toBeGreaterThan(0);
      }
      all.push(...res.body.suggestions);
    }
    const failures: string[] = [];
    for (const s of all) {
      const res = await dataQuery(s.sql);
      if (res.status !== 200) failures.push(`${s.title}: ${res.status} ${res.body.message}\n${s.sql}`);
    }
    expect(failures).toEqual([]);

    const titles = all.map((s) => s.title);
    // FOCUS-aware suggestions over the FOCUS table.
    expect(titles).toEqual(
      expect.arrayContaining(['Cost by service', 'Cost by region', 'Cost by month', 'Credits by service']),
    );
    // The generic kinds: preview, count, top-N by a measure, a measure by a dimension, a time series, a profile.
    expect(titles).toEqual(
      expect.arrayContaining([
        'Latest rows of sales_orders',
        'Count rows of sales_orders',
        'Top 10 sales_orders by amount',
        'amount by region in sales_orders',
        'amount per day in sales_orders',
        'Null and distinct profile of sales_orders',
      ]),
    );
    // A join over the foreign key from tenant_step_logs to tenant_pipeline_runs.
    const join = all.find((s) => s.tables.length === 2 && s.tables.includes('tenant_step_logs'));
    expect(join?.tables.sort()).toEqual(['tenant_pipeline_runs', 'tenant_step_logs']);
    expect(join?.sql).toMatch(
      /JOIN tenant_pipeline_runs p ON c\.pipeline_logging_id = p\.pipeline_logging_id/,
    );
  });

  it('FOCUS suggestions compute what a hand-written query does', async () => {
    const res = await suggest({ table: 'focus_billing', limit: 50 });
    const byService = res.body.suggestions.find((s) => s.title === 'Cost by service') as Suggestion;
    expect(byService.explanation).toContain('EffectiveCost');
    expect(byService.explanation).toContain('ServiceName');
    expect(rowSet((await dataQuery(byService.sql)).body.rows)).toEqual(
      rowSet(await reference('SELECT "ServiceName", sum("EffectiveCost") FROM focus_billing GROUP BY 1')),
    );
    const credits = res.body.suggestions.find((s) => s.title === 'Credits by service') as Suggestion;
    const creditRows = (await dataQuery(credits.sql)).body.rows;
    expect(creditRows.map((r) => r[0]).sort()).toEqual(['Amazon Elastic Compute Cloud', 'Amazon SageMaker']);
    expect(creditRows.find((r) => r[0] === 'Amazon SageMaker')?.[1]).toBe('-30.000000');
  });

  it('ranks by the context and caps at limit', async () => {
    const res = await suggest({ context: 'cost by region', limit: 3 });
    expect(res.status).toBe(200);
    expect(res.body.suggestions).toHaveLength(3);
    expect(res.body.suggestions[0].title).toBe('Cost by region');
  });

  it('answers the Launchpad alias exactly as its /api/v1 twin', async () => {
    const v1 = await suggest({ table: 'sales_orders', limit: 4 });
    const alias = await suggest({ table: 'sales_orders', limit: 4 }, acme.ownerKey, '/api/ai/sql/suggest');
    expect(alias.status).toBe(200);
    expect(alias.body).toEqual(v1.body);
  });

  it('refuses bad input with the envelope: unknown table, out-of-range limit, wrong types, roles', async () => {
    const unknown = await suggest({ table: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error_code: 'TABLE_NOT_FOUND', request_id: expect.any(String) });
    // Another tenant's table is no table of this one.
    const foreign = await suggest({ table: 'focus_billing' }, initech.ownerKey);
    expect(foreign.status).toBe(404);

    expect((await suggest({ limit: 51 })).status).toBe(400);
    expect((await suggest({ limit: 'ten' })).status).toBe(422);
    expect((await suggest({ context: 12 })).body).toMatchObject({ error_code: 'VALIDATION_ERROR' });

    const missing = await call(api.url, 'POST', '/api/v1/ai/query', { credentials: acme.ownerKey, body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    expect((await ask('')).status).toBe(400);
    expect((await ask('x'.repeat(2001))).status).toBe(400);

    expect((await suggest({}, viewer)).status).toBe(403);
    expect((await suggest({}, bearer(adminToken()))).status).toBe(400);
    const asAdmin = await call(api.url, 'POST', '/api/v1/ai/sql/suggest?tenantId=acme', {
      credentials: bearer(adminToken()),
      body: { table: 'focus_billing', limit: 1 },
    });
    expect(asAdmin.status).toBe(200);
  });
});

describe('POST /ai/query (built in)', () => {
  it('"total cost by service" yields SQL whose result equals the hand-written query', async () => {
    const res = await ask('total cost by service', { execute: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'builtin', tables: ['focus_billing'] });
    expect(res.body.warning).toBeUndefined();
    expect(res.body.explanation).toMatch(/EffectiveCost/);
    expect(res.body.explanation).toMatch(/ServiceName/);
    const expected = rowSet(
      await reference('SELECT "ServiceName", sum("EffectiveCost") FROM focus_billing GROUP BY 1'),
    );
    expect(rowSet(res.body.rows as unknown[][])).toEqual(expected);
    // The SQL alone gives the same through /data/query.
    expect(rowSet((await dataQuery(res.body.sql)).body.rows)).toEqual(expected);
  });

  it('"top 5 services by cost last month": a time window, an order and a limit', async () => {
    const res = await ask('top 5 services by cost last month', { execute: true });
    expect(res.status).toBe(200);
    expect(res.body.row_count).toBe(5);
    expect(res.body.explanation).toMatch(/last month/);
    expect(res.body.rows).toEqual(
      await reference(`SELECT "ServiceName", sum("EffectiveCost") FROM focus_billing
        WHERE "ChargePeriodStart" >= date_trunc('month', now()) - interval '1 month'
          AND "ChargePeriodStart" < date_trunc('month', now())
        GROUP BY 1 ORDER BY 2 DESC LIMIT 5`),
    );
  });

  it('reads billed cost, credits and a monthly grain from the words', async () => {
    const billed = await ask('billed cost per region', { execute: true });
    expect(billed.body.explanation).toMatch(/BilledCost/);
    expect(rowSet(billed.body.rows as unknown[][])).toEqual(
      rowSet(await reference('SELECT "RegionId", sum("BilledCost") FROM focus_billing GROUP BY 1')),
    );

    const credits = await ask('total credits by service', { execute: true });
    expect(rowSet(credits.body.rows as unknown[][])).toEqual(
      rowSet(
        await reference(
          `SELECT "ServiceName", sum("EffectiveCost") FROM focus_billing WHERE "ChargeCategory" = 'Credit' GROUP BY 1`,
        ),
      ),
    );

    const monthly = await ask('monthly spend', { execute: true });
    expect(monthly.body.rows).toEqual(
      await reference(
        `SELECT date_trunc('month', "ChargePeriodStart"), sum("EffectiveCost") FROM focus_billing GROUP BY 1 ORDER BY 1`,
      ),
    );
  });

  it('matches the extracted CSV table by its name and columns', async () => {
    const res = await ask('average amount per region in sales orders', { execute: true });
    expect(res.body.tables).toEqual(['sales_orders']);
    expect(res.body.explanation).toMatch(/amount/);
    expect(rowSet(res.body.rows as unknown[][])).toEqual(
      rowSet(await reference('SELECT region, avg(amount) FROM sales_orders GROUP BY 1')),
    );
    const count = await ask('how many sales orders', { execute: true });
    expect(count.body.rows).toEqual([[120]]);
  });

  it('puts nothing of the question into the SQL but the catalogue’s own names', async () => {
    const res = await ask(`total amount by region'; DROP TABLE sales_orders; --`, { execute: true });
    expect(res.status).toBe(200);
    expect(res.body.sql).not.toMatch(/DROP|;/);
    expect((await dataQuery('SELECT count(*) FROM sales_orders')).body.rows).toEqual([[120]]);
    const odd = await ask('total amount per user in odd names', { execute: true });
    expect(odd.body.sql).toContain('SELECT "user", sum("Total Amount") AS total_amount');
    expect(odd.body.sql).toContain('FROM "Odd Names"');
    expect(rowSet(odd.body.rows as unknown[][])).toEqual(
      rowSet([
        ['ann', '1.5'],
        ['bob', null],
      ]),
    );
  });

  it('answers a question that matches nothing with a valid preview and a warning', async () => {
    const res = await ask('xyzzy plugh');
    expect(res.status).toBe(200);
    expect(res.body.warning).toMatch(/matched/);
    expect(res.body.explanation).toMatch(/preview/);
    expect((await dataQuery(res.body.sql)).status).toBe(200);
  });
});

describe('audit and rate limit', () => {
  it('audits ai.suggest and ai.query without the question or any data', async () => {
    const res = await call(api.url, 'GET', '/api/v1/audit/events?resource_type=dataset&limit=100', {
      credentials: acme.ownerKey,
    });
    const events = (res.body.items ?? []).filter((e) => String(e.event_type).startsWith('ai.'));
    const kinds = new Set(events.map((e) => e.event_type));
    expect(kinds).toEqual(new Set(['ai.suggest', 'ai.query']));
    const query = events.find((e) => e.event_type === 'ai.query') as Record<string, unknown>;
    expect(query.details).toMatchObject({
      source: 'builtin',
      question_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      sql_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const text = JSON.stringify(events);
    for (const leaked of ['cost by service', 'top 5', 'Amazon', 'EMEA', 'SELECT'])
      expect(text).not.toContain(leaked);
  });

  it('limits each tenant per minute under its own `ai` budget, leaving /data/query alone', async () => {
    // Fixed windows: within 2 x limit + 1 calls one window must overflow, whenever the minute turns.
    let limited: Awaited<ReturnType<typeof suggest>> | undefined;
    let headers: Headers | undefined;
    for (let i = 0; i < 2 * AI_PER_MINUTE + 1 && !limited; i += 1) {
      const res = await call(api.url, 'POST', '/api/v1/ai/sql/suggest', {
        credentials: initech.ownerKey,
        body: { limit: 1 },
      });
      if (res.status === 429) {
        limited = { status: res.status, body: res.body as unknown as SuggestBody };
        headers = res.headers;
      } else expect(res.status).toBe(200);
    }
    expect(limited?.body).toMatchObject({
      error_code: 'RATE_LIMITED',
      details: { policy: 'ai', limit: AI_PER_MINUTE },
    });
    expect(Number(headers?.get('retry-after'))).toBeGreaterThan(0);
    expect((await dataQuery('SELECT 1', initech.ownerKey)).status).toBe(200);
    // Another tenant's budget is its own.
    expect((await suggest({ limit: 1 })).status).toBe(200);
  });
});
