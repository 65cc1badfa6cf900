import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { call, type Credentials, loginAdmin, onboardTenant, signToken } from '../../support/auth';
import { graph, publish } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  TEST_JWT_SECRET,
  type TestBackends,
} from '../../support/harness';

// Every route the committed OpenAPI document lists, fed what a hostile or broken client sends. Each answer must be
// a 4xx in the SPEC's envelope (never a 5xx), and /health, asked by a second client meanwhile, must answer within a
// second: no single request may stall the API for everyone else. (The stalls this guards against lasted 4 to 37 s;
// the bound is loose so that a loaded CI machine, not a regression, never trips it.)
interface Operation {
  method: string;
  path: string;
  json: boolean;
  integerParams: string[];
}

const document = JSON.parse(readFileSync(path.join(__dirname, '../../../openapi.json'), 'utf8')) as {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, unknown> };
        parameters?: Array<{ in: string; name: string; schema?: { type?: string } }>;
      }
    >
  >;
};
const OPERATIONS: Operation[] = Object.entries(document.paths).flatMap(([route, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(),
    path: route.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'),
    json: Boolean(op.requestBody?.content?.['application/json']),
    integerParams: (op.parameters ?? [])
      .filter((p) => p.in === 'query' && p.schema?.type === 'integer')
      .map((p) => p.name),
  })),
);

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
const HOSTILE_BODIES: Record<string, string> = {
  'deep nesting': nested(10_000),
  'many keys': manyKeys(150_000),
  'huge string': JSON.stringify({ name: 'x'.repeat(1_500_000), email: 'x'.repeat(100_000) }),
  'lone surrogate': '{"name":"\\ud800","email":"a\\udfff@x.test","definition":{"nodes":"\\ud800"}}',
  'NUL character': '{"name":"a\\u0000b","email":"x\\u0000@y.test","definition":{"nodes":[],"edges":[]}}',
  'wrong types': JSON.stringify({ name: 42, email: [], definition: 'no', input: 7, cron: {}, page: 'x' }),
  'an array': '[1,2,3]',
  'a string': '"just a string"',
};
const HOSTILE_INTEGERS = ['99999999999999999999', '-1', '1e400', 'abc', '0x10', ''];

let backends: TestBackends;
let api: RunningApi;
let owner: Credentials;
let admin: Credentials;
let workflowId: string;

beforeAll(async () => {
  backends = await createTestBackends({
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  const acme = await onboardTenant(api.url, admin, 'acme');
  owner = acme.ownerKey;
  workflowId = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

/** Sends one request while a second client times /health; returns both answers. */
async function probe(
  method: string,
  url: string,
  credentials: Credentials,
  body?: string,
): Promise<{ status: number; body: Record<string, unknown>; healthMs: number }> {
  const sent = fetch(url, {
    method,
    headers: {
      ...credentials.headers,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body,
  });
  // Give the hostile request a head start, so /health is asked while it is being processed.
  await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  await (await fetch(`${api.url}/health`)).arrayBuffer();
  const healthMs = performance.now() - started;
  const res = await sent;
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsable: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed, healthMs };
}

function expectHandled(
  what: string,
  answer: { status: number; body: Record<string, unknown>; healthMs: number },
) {
  expect({ what, status: answer.status < 500 }).toEqual({ what, status: true });
  if (answer.status >= 400) {
    expect({ what, envelope: answer.body }).toEqual({
      what,
      envelope: expect.objectContaining({
        error_code: expect.any(String),
        message: expect.any(String),
        request_id: expect.any(String),
      }),
    });
  }
  // A stall (a body parsed or validated synchronously for seconds) holds /health back that long; 3 s leaves room
  // for a loaded CI machine, where the whole suite shares two cores.
  expect({ what, healthWithin3s: answer.healthMs < 3000 }).toEqual({ what, healthWithin3s: true });
}

describe('hostile input on every route of the OpenAPI document', () => {
  it('lists the routes it probes', () => {
    expect(OPERATIONS.filter((op) => op.json).length).toBeGreaterThanOrEqual(10);
    expect(OPERATIONS.filter((op) => op.integerParams.length > 0).length).toBeGreaterThanOrEqual(5);
  });

  it('answers malformed, oversized and mistyped JSON bodies with a 4xx envelope and never stalls', async () => {
    for (const op of OPERATIONS.filter((o) => o.json)) {
      for (const [name, body] of Object.entries(HOSTILE_BODIES)) {
        for (const credentials of [owner, admin]) {
          const answer = await probe(op.method, `${api.url}${op.path}`, credentials, body);
          expectHandled(`${op.method} ${op.path} with ${name}`, answer);
          expect(answer.status).toBeGreaterThanOrEqual(400);
        }
      }
    }
  });

  it('answers out-of-range and non-numeric integer parameters with a 4xx envelope', async () => {
    for (const op of OPERATIONS.filter((o) => o.integerParams.length > 0)) {
      for (const param of op.integerParams) {
        for (const value of HOSTILE_INTEGERS) {
          const url = `${api.url}${op.path}?${param}=${encodeURIComponent(value)}`;
          const answer = await probe(op.method, url, owner);
          expectHandled(`${op.method} ${op.path}?${param}=${value}`, answer);
          if (value !== '') expect(answer.status).toBeGreaterThanOrEqual(400);
        }
      }
    }
  });

  it('answers a token for a tenant that does not exist, or without expiry, with 401', async () => {
    const ghost = {
      headers: { authorization: `Bearer ${signToken({ tenant_id: 'ghost', role: 'owner' })}` },
    };
    const created = await call(api.url, 'POST', '/api/v1/workflows', {
      credentials: ghost,
      body: { name: 'x', definition: graph([{ id: 'start', type: 'trigger.manual' }], []) },
    });
    expect([created.status, created.body.error_code]).toEqual([401, 'INVALID_TOKEN']);
    expect(created.body.message).toContain("tenant 'ghost'");

    const forever = jwtWithoutExp({ tenant_id: 'acme', role: 'owner' });
    const listed = await call(api.url, 'GET', '/api/v1/workflows', {
      credentials: { headers: { authorization: `Bearer ${forever}` } },
    });
    expect([listed.status, listed.body.error_code]).toEqual([401, 'INVALID_TOKEN']);
    expect(listed.body.message).toContain('no expiry');
  });

  it('answers an oversized header block in the envelope', async () => {
    const res = await fetch(`${api.url}/api/v1/workflows`, {
      headers: { ...owner.headers, 'x-junk': 'j'.repeat(60_000) },
    });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({
      error_code: expect.any(String),
      request_id: expect.any(String),
    });
  });

  it('caps the problems one validation error lists', async () => {
    const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`unknown_${i}`, i]));
    const res = await call(api.url, 'POST', '/api/v1/workflows', { credentials: owner, body });
    expect(res.status).toBe(422);
    const details = res.body.details as { fields: unknown[]; more_fields: number };
    expect(details.fields).toHaveLength(20);
    expect(details.more_fields).toBeGreaterThan(400);
    expect(JSON.stringify(res.body).length).toBeLessThan(10_000);
  });

  it('matches input_schema patterns in linear time (no ReDoS)', async () => {
    const patterns = ['^(a+)+$', '^(a|aa)+$', '^(\\w+\\s?)*$', '^(.*a){20}$'];
    for (const pattern of patterns) {
      const created = await call(api.url, 'POST', '/api/v1/workflows', {
        credentials: owner,
        body: {
          name: `redos ${pattern}`,
          definition: graph([{ id: 'start', type: 'trigger.manual' }], []),
          input_schema: { type: 'object', properties: { s: { type: 'string', pattern } } },
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(
        (await call(api.url, 'POST', `/api/v1/workflows/${id}/publish`, { credentials: owner })).status,
      ).toBe(200);
      const answer = await probe(
        'POST',
        `${api.url}/api/v1/workflows/${id}/run`,
        owner,
        JSON.stringify({ input: { s: `${'a'.repeat(40)}!` } }),
      );
      expectHandled(`run with pattern ${pattern}`, answer);
      expect(answer.status).toBe(422);
    }
    expect(workflowId).toBeDefined();
  });
});

function jwtWithoutExp(claims: Record<string, unknown>): string {
  // signToken adds an expiry unless the claims carry `exp`; a token built by hand has none.
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ ...claims, iat: Math.floor(Date.now() / 1000) })}`;
  return `${unsigned}.${createHmac('sha256', TEST_JWT_SECRET).update(unsigned).digest('base64url')}`;
}
