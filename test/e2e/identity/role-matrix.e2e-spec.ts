import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiKey, bearer, call, type Credentials, loginAdmin, onboardTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

type Caller = 'admin' | 'owner' | 'member' | 'viewer' | 'other' | 'none';
const CALLERS: Caller[] = ['admin', 'owner', 'member', 'viewer', 'other', 'none'];

let backends: TestBackends;
let api: RunningApi;
const creds: Partial<Record<Caller, Credentials>> = {};
let serial = 0;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  creds.admin = await loginAdmin(api.url);
  const acme = await onboardTenant(api.url, creds.admin, 'acme');
  const other = await onboardTenant(api.url, creds.admin, 'umbrella');
  const login = await call(api.url, 'POST', '/api/v1/auth/login', {
    body: { email: acme.ownerEmail, password: acme.ownerPassword },
  });
  creds.owner = bearer(login.body.token as string);
  for (const role of ['member', 'viewer'] as const) {
    const key = await call(api.url, 'POST', '/api/v1/api-keys', {
      credentials: acme.ownerKey,
      body: { name: role, role },
    });
    creds[role] = apiKey(key.body.api_key as string);
  }
  creds.other = other.ownerKey;
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

/** Platform admins name the tenant they act on; tenant principals are scoped by their credential. */
const asTenant = (caller: Caller, path: string) =>
  caller === 'admin' ? `${path}${path.includes('?') ? '&' : '?'}tenantId=acme` : path;

async function acmeKeyId(): Promise<string> {
  const res = await call(api.url, 'POST', '/api/v1/api-keys?tenantId=acme', {
    credentials: creds.admin,
    body: { name: `victim-${serial++}` },
  });
  return res.body.id as string;
}

interface Row {
  name: string;
  expected: Record<Caller, number>;
  request: (caller: Caller) => Promise<{ method: string; path: string; body?: unknown }>;
}

const ROWS: Row[] = [
  {
    name: 'GET /auth/me',
    expected: { admin: 200, owner: 200, member: 200, viewer: 200, other: 200, none: 401 },
    request: async () => ({ method: 'GET', path: '/api/v1/auth/me' }),
  },
  {
    name: 'GET /users',
    expected: { admin: 200, owner: 200, member: 403, viewer: 403, other: 200, none: 401 },
    request: async (c) => ({ method: 'GET', path: asTenant(c, '/api/v1/users') }),
  },
  {
    name: 'POST /users',
    expected: { admin: 201, owner: 201, member: 403, viewer: 403, other: 201, none: 401 },
    request: async (c) => ({
      method: 'POST',
      path: asTenant(c, '/api/v1/users'),
      body: { email: `u${serial++}@matrix.test`, role: 'viewer' },
    }),
  },
  {
    name: 'GET /api-keys',
    expected: { admin: 200, owner: 200, member: 403, viewer: 403, other: 200, none: 401 },
    request: async (c) => ({ method: 'GET', path: asTenant(c, '/api/v1/api-keys') }),
  },
  {
    name: 'POST /api-keys',
    expected: { admin: 201, owner: 201, member: 403, viewer: 403, other: 201, none: 401 },
    request: async (c) => ({
      method: 'POST',
      path: asTenant(c, '/api/v1/api-keys'),
      body: { name: `k${serial++}` },
    }),
  },
  {
    name: "DELETE /api-keys/{acme's key}",
    expected: { admin: 204, owner: 204, member: 403, viewer: 403, other: 404, none: 401 },
    request: async (c) => ({ method: 'DELETE', path: asTenant(c, `/api/v1/api-keys/${await acmeKeyId()}`) }),
  },
  {
    name: 'POST /tenants/onboard',
    expected: { admin: 201, owner: 403, member: 403, viewer: 403, other: 403, none: 401 },
    request: async () => ({
      method: 'POST',
      path: '/api/v1/tenants/onboard',
      body: {
        tenant_id: `matrix_${serial}`,
        company_name: 'M',
        admin_email: `o${serial++}@m.test`,
        subscription_plan: 'STARTER',
      },
    }),
  },
  {
    name: 'GET /tenants',
    expected: { admin: 200, owner: 200, member: 200, viewer: 200, other: 200, none: 401 },
    request: async () => ({ method: 'GET', path: '/api/v1/tenants' }),
  },
  {
    name: 'GET /tenants/acme',
    expected: { admin: 200, owner: 200, member: 200, viewer: 200, other: 403, none: 401 },
    request: async () => ({ method: 'GET', path: '/api/v1/tenants/acme' }),
  },
  {
    name: 'PATCH /tenants/acme',
    expected: { admin: 200, owner: 200, member: 403, viewer: 403, other: 403, none: 401 },
    request: async () => ({
      method: 'PATCH',
      path: '/api/v1/tenants/acme',
      body: { name: `Acme ${serial++}` },
    }),
  },
  {
    name: 'GET /tenants/acme/quota',
    expected: { admin: 200, owner: 200, member: 200, viewer: 200, other: 403, none: 401 },
    request: async () => ({ method: 'GET', path: '/api/v1/tenants/acme/quota' }),
  },
  {
    name: 'GET /audit/events',
    expected: { admin: 200, owner: 200, member: 403, viewer: 403, other: 200, none: 401 },
    request: async (c) => ({ method: 'GET', path: asTenant(c, '/api/v1/audit/events') }),
  },
  {
    name: 'GET /audit/verify',
    expected: { admin: 200, owner: 200, member: 403, viewer: 403, other: 200, none: 401 },
    request: async (c) => ({ method: 'GET', path: asTenant(c, '/api/v1/audit/verify') }),
  },
  {
    name: 'GET /metrics',
    expected: { admin: 200, owner: 403, member: 403, viewer: 403, other: 403, none: 401 },
    request: async () => ({ method: 'GET', path: '/metrics' }),
  },
];

describe('role x endpoint matrix', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const actual: Partial<Record<Caller, number>> = {};
      for (const caller of CALLERS) {
        const request = await row.request(caller);
        const res = await fetch(`${api.url}${request.path}`, {
          method: request.method,
          headers: {
            ...(request.body ? { 'content-type': 'application/json' } : {}),
            ...creds[caller]?.headers,
          },
          body: request.body ? JSON.stringify(request.body) : undefined,
        });
        actual[caller] = res.status;
      }
      expect(actual).toEqual(row.expected);
    });
  }

  it('answers a foreign :tenant_id with the SPEC message and a foreign id with 404', async () => {
    const mismatch = await call(api.url, 'GET', '/api/v1/tenants/acme', { credentials: creds.other });
    expect(mismatch.body).toMatchObject({
      error_code: 'TENANT_MISMATCH',
      message: "authenticated as 'umbrella' but requested 'acme'",
    });
    const foreignKey = await call(api.url, 'DELETE', `/api/v1/api-keys/${await acmeKeyId()}`, {
      credentials: creds.other,
    });
    expect(foreignKey.body.error_code).toBe('API_KEY_NOT_FOUND');
  });

  it("never lists another tenant's users, keys or events", async () => {
    for (const path of ['/api/v1/users', '/api/v1/api-keys', '/api/v1/audit/events']) {
      const res = await call(api.url, 'GET', path, { credentials: creds.other });
      expect(JSON.stringify(res.body)).not.toMatch(/acme/);
    }
    const tenants = await call(api.url, 'GET', '/api/v1/tenants', { credentials: creds.other });
    expect(tenants.body.items?.map((t) => t.id)).toEqual(['umbrella']);
  });
});
