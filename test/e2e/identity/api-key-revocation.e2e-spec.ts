import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiKey, call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

// Two API processes on one database and Redis, each caching verified keys (AUTH_API_KEY_CACHE_MS, a minute here
// so only the revocation message can explain a refusal).
let backends: TestBackends;
let apiA: RunningApi;
let apiB: RunningApi;
let acme: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends({ AUTH_API_KEY_CACHE_MS: '60000' });
  apiA = await startTestApi(backends.env);
  apiB = await startTestApi(backends.env);
  acme = await onboardTenant(apiA.url, await loginAdmin(apiA.url), 'acme');
});

afterAll(async () => {
  await apiA?.close();
  await apiB?.close();
  await backends?.cleanup();
});

const me = (url: string, key: string) => call(url, 'GET', '/api/v1/auth/me', { credentials: apiKey(key) });

describe('API keys cached per process', () => {
  it('a key revoked through one API process fails at its next use on another', async () => {
    const created = await call(apiA.url, 'POST', '/api/v1/api-keys', {
      credentials: acme.ownerKey,
      body: { name: 'ci', role: 'member' },
    });
    expect(created.status).toBe(201);
    const key = created.body.api_key as string;
    for (const url of [apiA.url, apiB.url, apiA.url, apiB.url]) expect((await me(url, key)).status).toBe(200);

    const revoked = await call(apiA.url, 'DELETE', `/api/v1/api-keys/${created.body.id as string}`, {
      credentials: acme.ownerKey,
    });
    expect(revoked.status).toBe(204);
    const onB = await me(apiB.url, key);
    expect(onB.status).toBe(401);
    expect(onB.body.error_code).toBe('INVALID_TOKEN');
    expect((await me(apiA.url, key)).status).toBe(401);
  });

  it('revoking one key leaves the tenant’s other cached keys working everywhere', async () => {
    const [first, second] = await Promise.all(
      ['one', 'two'].map((name) =>
        call(apiA.url, 'POST', '/api/v1/api-keys', { credentials: acme.ownerKey, body: { name } }),
      ),
    );
    for (const url of [apiA.url, apiB.url]) {
      expect((await me(url, first.body.api_key as string)).status).toBe(200);
      expect((await me(url, second.body.api_key as string)).status).toBe(200);
    }
    await call(apiB.url, 'DELETE', `/api/v1/api-keys/${first.body.id as string}`, {
      credentials: acme.ownerKey,
    });
    for (const url of [apiA.url, apiB.url]) {
      expect((await me(url, first.body.api_key as string)).status).toBe(401);
      expect((await me(url, second.body.api_key as string)).status).toBe(200);
    }
  });
});
