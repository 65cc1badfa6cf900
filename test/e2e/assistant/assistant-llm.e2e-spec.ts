import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { call, type OnboardedTenant } from '../../support/auth';
import type { RunningApi } from '../../support/harness';
import { type AssistantBackends, rowSet, startWithTables } from './fixtures';

const TIMEOUT_MS = 1500;
const VALID =
  'SELECT "ServiceName", sum("BilledCost") AS billed FROM focus_billing GROUP BY 1 ORDER BY 2 DESC';
const INVALID = 'SELECT "NoSuchColumn" FROM focus_billing';

/**
 * A fake OpenAI-compatible server: each request takes the next scripted behaviour (an answer, an HTTP error, or
 * no answer at all) and is recorded.
 */
type Behaviour = { content: string } | { status: number; body: string } | 'hang';
const script: Behaviour[] = [];
const received: Array<{ headers: IncomingMessage['headers']; body: Record<string, unknown> }> = [];
const hanging: ServerResponse[] = [];
let fake: Server;

function startFake(): Promise<string> {
  fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
      });
      const next = script.shift() ?? { status: 500, body: '{"error":"no scripted answer"}' };
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
      } else if (next === 'hang') {
        hanging.push(res);
      } else if ('content' in next) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            model: 'fake-model',
            choices: [
              { index: 0, message: { role: 'assistant', content: next.content }, finish_reason: 'stop' },
            ],
          }),
        );
      } else {
        res.writeHead(next.status, { 'content-type': 'application/json' }).end(next.body);
      }
    });
  });
  return new Promise((resolve) =>
    fake.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`)),
  );
}

let setup: AssistantBackends;
let api: RunningApi;
let acme: OnboardedTenant;

beforeAll(async () => {
  setup = await startWithTables({
    LLM_BASE_URL: await startFake(),
    LLM_API_KEY: 'sk-test-key',
    LLM_MODEL: 'fake-model',
    LLM_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  ({ api, acme } = setup);
});

afterAll(async () => {
  await setup?.stop();
  for (const res of hanging) res.destroy();
  fake?.closeAllConnections();
  await new Promise((resolve) => fake?.close(resolve));
});

beforeEach(() => {
  script.length = 0;
  received.length = 0;
});

const suggestions = (...items: Array<{ sql: string; title?: string }>) => ({
  content: JSON.stringify({
    suggestions: items.map((i) => ({
      title: i.title ?? 'A query',
      sql: i.sql,
      explanation: 'from the model',
    })),
  }),
});

async function suggest(body: Record<string, unknown> = {}) {
  const res = await call(api.url, 'POST', '/api/v1/ai/sql/suggest', { credentials: acme.ownerKey, body });
  return res as unknown as {
    status: number;
    body: Record<string, unknown> & { suggestions: Array<Record<string, unknown>> };
  };
}

async function ask(question: string, extra: Record<string, unknown> = {}) {
  const res = await call(api.url, 'POST', '/api/v1/ai/query', {
    credentials: acme.ownerKey,
    body: { question, ...extra },
  });
  return res as { status: number; body: Record<string, unknown> & { rows?: unknown[][] } };
}

async function dataQuery(sql: string) {
  return call(api.url, 'POST', '/api/v1/data/query', { credentials: acme.ownerKey, body: { sql } });
}

describe('the LLM path', () => {
  it('returns the model’s valid SQL and drops the invalid (and refused, and foreign) ones', async () => {
    script.push(
      suggestions(
        { sql: VALID, title: 'Billed cost by service' },
        { sql: INVALID },
        { sql: 'DELETE FROM focus_billing' },
        { sql: 'SELECT relname FROM pg_class' },
        { sql: 'SELECT 1' },
      ),
    );
    const res = await suggest({ context: 'cost by service' });
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('llm');
    expect(res.body.warning).toBeUndefined();
    expect(res.body.suggestions).toEqual([
      {
        sql: VALID,
        title: 'Billed cost by service',
        explanation: 'from the model',
        tables: ['focus_billing'],
      },
    ]);
    expect((await dataQuery(VALID)).status).toBe(200);

    // What the model was sent: the schema, never a row.
    const [request] = received;
    expect(request.headers.authorization).toBe('Bearer sk-test-key');
    expect(request.body).toMatchObject({ model: 'fake-model', temperature: 0 });
    const prompt = JSON.stringify(request.body.messages);
    expect(prompt).toContain('focus_billing');
    expect(prompt).toContain('\\"ServiceName\\" text');
    expect(prompt).toContain('sales_orders');
    expect(prompt).toContain('cost by service');
    for (const value of [
      'Amazon',
      'us-east-1',
      '111111111111',
      'Initrode',
      'SO-00001',
      'EMEA',
      'Acme Production',
    ])
      expect(prompt).not.toContain(value);
  });

  it('answers a question with the model’s SQL, and runs it with execute', async () => {
    script.push({
      content:
        '```json\n' + JSON.stringify({ sql: VALID, explanation: 'BilledCost per ServiceName' }) + '\n```',
    });
    const res = await ask('what did each service cost?', { execute: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      sql: VALID,
      source: 'llm',
      explanation: 'BilledCost per ServiceName',
      tables: ['focus_billing'],
    });
    expect(rowSet(res.body.rows as unknown[][])).toEqual(
      rowSet((await dataQuery(VALID)).body.rows as unknown[][]),
    );
  });

  it('falls back to the built-in answer when the model’s SQL is invalid', async () => {
    script.push({ content: JSON.stringify({ sql: INVALID, explanation: 'wrong' }) });
    const res = await ask('total cost by service', { execute: true });
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('builtin');
    expect(res.body.warning).toMatch(/None of the model's SQL passed/);
    expect(res.body.sql).not.toContain('NoSuchColumn');
    expect(res.body.explanation).toMatch(/EffectiveCost/);
    expect(rowSet(res.body.rows as unknown[][])).toEqual(
      rowSet(
        (await dataQuery('SELECT "ServiceName", sum("EffectiveCost") FROM focus_billing GROUP BY 1')).body
          .rows as unknown[][],
      ),
    );
  });

  it('falls back to built-in suggestions on a timeout, with a warning', async () => {
    script.push('hang');
    const res = await suggest({ table: 'focus_billing', limit: 5 });
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('builtin');
    expect(res.body.warning).toBe(
      `The model did not answer within ${TIMEOUT_MS} ms; the built-in assistant answered`,
    );
    expect(res.body.suggestions).toHaveLength(5);
    for (const s of res.body.suggestions) expect((await dataQuery(String(s.sql))).status).toBe(200);
  });

  it('falls back on provider errors and unreadable answers, with a warning', async () => {
    script.push({ status: 500, body: '{"error":{"message":"overloaded"}}' });
    const failed = await suggest({ limit: 2 });
    expect(failed.body).toMatchObject({
      source: 'builtin',
      warning: 'The model endpoint answered HTTP 500; the built-in assistant answered',
    });
    expect(failed.body.suggestions).toHaveLength(2);

    script.push({ status: 401, body: '{"error":{"message":"bad key"}}' });
    expect((await ask('total cost by service')).body).toMatchObject({
      source: 'builtin',
      warning: expect.stringMatching(/HTTP 401/),
    });

    script.push({ content: 'Sure! Here is a query you might like.' });
    expect((await suggest({ limit: 1 })).body).toMatchObject({
      source: 'builtin',
      warning: expect.stringMatching(/JSON/),
    });

    script.push(suggestions({ sql: INVALID }));
    const none = await suggest({ limit: 1 });
    expect(none.body).toMatchObject({ source: 'builtin', warning: expect.stringMatching(/1 dropped/) });
  });

  it('keeps only suggestions over the table asked for', async () => {
    script.push(suggestions({ sql: 'SELECT count(*) FROM sales_orders' }, { sql: VALID }));
    const res = await suggest({ table: 'focus_billing' });
    expect(res.body.source).toBe('llm');
    expect(res.body.suggestions.map((s) => s.sql)).toEqual([VALID]);
  });

  it('audits what the model did without the prompt or the answer', async () => {
    script.push('hang');
    await ask('cost by region');
    const res = await call(api.url, 'GET', '/api/v1/audit/events?resource_type=dataset&limit=100', {
      credentials: acme.ownerKey,
    });
    const events = (res.body.items ?? []).filter((e) => String(e.event_type).startsWith('ai.'));
    expect(
      events.find((e) => e.event_type === 'ai.query' && (e.details as { llm?: string }).llm === 'timeout'),
    ).toBeDefined();
    expect(
      events.find((e) => e.event_type === 'ai.suggest' && (e.details as { dropped?: number }).dropped === 4),
    ).toBeDefined();
    const text = JSON.stringify(events);
    for (const leaked of ['cost by region', 'NoSuchColumn', 'from the model', 'ServiceName'])
      expect(text).not.toContain(leaked);
  });
});
