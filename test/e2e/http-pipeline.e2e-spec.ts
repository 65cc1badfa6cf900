import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EchoModule } from '../fixtures/echo.controller';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../support/harness';

let backends: TestBackends;
let api: RunningApi;

beforeAll(async () => {
  backends = await createTestBackends({ BODY_LIMIT: '1kb', CORS_ORIGINS: 'https://app.example.com' });
  api = await startTestApi(backends.env, { imports: [EchoModule] });
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

const post = (
  path: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => fetch(`${api.url}${path}`, { method: 'POST', body, headers });

async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ error_code: code, error: expect.any(String), message: expect.any(String) });
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  expect(body.request_id).toEqual(expect.any(String));
  return body;
}

describe('HTTP pipeline', () => {
  it('keeps an idle connection open 65 s, longer than load balancers and client pools keep one', async () => {
    const header = await new Promise<string | string[] | undefined>((resolve, reject) => {
      get(`${api.url}/health`, { headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        resolve(res.headers['keep-alive']);
      }).on('error', reject);
    });
    expect(header).toBe('timeout=65');
  });

  it('accepts a valid JSON body', async () => {
    const res = await post('/api/v1/fixture/echo', JSON.stringify({ name: 'ok', count: 3 }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: 'ok', count: 3 });
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    await expectEnvelope(await fetch(`${api.url}/api/v1/does-not-exist`), 404, 'NOT_FOUND');
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    await expectEnvelope(await post('/api/v1/fixture/echo', '{"name": "x",'), 400, 'MALFORMED_JSON');
  });

  it('answers a body over BODY_LIMIT with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ name: 'x', count: 1, padding: 'y'.repeat(2048) });
    await expectEnvelope(await post('/api/v1/fixture/echo', body), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a JSON endpoint given another content type with 415', async () => {
    const res = await post('/api/v1/fixture/echo', 'name=x&count=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    const body = await expectEnvelope(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(body.message).toContain('application/json');
  });

  it('answers a missing required field with 422 VALIDATION_ERROR naming it', async () => {
    const body = await expectEnvelope(
      await post('/api/v1/fixture/echo', JSON.stringify({ count: 2 })),
      422,
      'VALIDATION_ERROR',
    );
    expect(body.details).toEqual({
      fields: [{ field: 'name', constraints: expect.objectContaining({ isString: expect.any(String) }) }],
    });
  });

  it('answers a wrong-typed field with 422', async () => {
    await expectEnvelope(
      await post('/api/v1/fixture/echo', JSON.stringify({ name: 'x', count: 'three' })),
      422,
      'VALIDATION_ERROR',
    );
  });

  it('answers an unknown field with 422 (strict whitelist)', async () => {
    const res = await post('/api/v1/fixture/echo', JSON.stringify({ name: 'x', count: 1, admin: true }));
    const body = await expectEnvelope(res, 422, 'VALIDATION_ERROR');
    expect(body.message).toContain('admin');
  });

  it('answers out-of-range and not-allowed values with 400 VALIDATION_ERROR', async () => {
    await expectEnvelope(
      await post('/api/v1/fixture/echo', JSON.stringify({ name: 'x', count: 11 })),
      400,
      'VALIDATION_ERROR',
    );
    await expectEnvelope(
      await post('/api/v1/fixture/echo', JSON.stringify({ name: 'x', count: 1, mode: 'c' })),
      400,
      'VALIDATION_ERROR',
    );
    const nested = await post(
      '/api/v1/fixture/echo',
      JSON.stringify({ name: 'x', count: 1, tag: { label: 'far-too-long-label' } }),
    );
    const body = await expectEnvelope(nested, 400, 'VALIDATION_ERROR');
    expect(body.details).toEqual({ fields: [expect.objectContaining({ field: 'tag.label' })] });
  });

  it('answers an unexpected error with a bare 500 that leaks nothing', async () => {
    const res = await post('/api/v1/fixture/boom', '{}');
    const body = await expectEnvelope(res, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toMatch(/SELECT|secret|stack|at /);
  });

  it('echoes a given X-Request-ID and generates one otherwise', async () => {
    const given = await fetch(`${api.url}/api/v1/nope`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(((await given.json()) as { request_id: string }).request_id).toBe('trace-abc.123');

    const generated = await fetch(`${api.url}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const hostile = await fetch(`${api.url}/health`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers and allows CORS for the SPA and CORS_ORIGINS only', async () => {
    const res = await fetch(`${api.url}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
    // Swagger UI must load over plain http from any host (docker compose, an IP): no forced https upgrade.
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');

    const preflight = (origin: string) =>
      fetch(`${api.url}/api/v1/fixture/echo`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    expect((await preflight('http://localhost:5173')).headers.get('access-control-allow-origin')).toBe(
      'http://localhost:5173',
    );
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe(
      'https://app.example.com',
    );
    expect(
      (await preflight('https://evil.example.com')).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('serves Swagger UI at /docs and the document with both security schemes at /docs-json', async () => {
    const ui = await fetch(`${api.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');

    const doc = (await (await fetch(`${api.url}/docs-json`)).json()) as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, unknown>;
    };
    expect(doc.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      'api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/metrics', '/api/v1/fixture/echo']),
    );
  });
});
