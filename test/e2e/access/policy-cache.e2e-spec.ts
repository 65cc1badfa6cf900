import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  type OnboardedTenant,
  onboardTenant,
} from '../../support/auth';
import { graph } from '../../support/engine';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

// Two API processes on one database and Redis, each caching tenants' enabled policies (AUTH_POLICY_CACHE_MS, a
// minute here, so only the change message can explain a process judging by the new policies).
let backends: TestBackends;
let apiA: RunningApi;
let apiB: RunningApi;
let acme: OnboardedTenant;
let globex: OnboardedTenant;
let member: Credentials;
let globexMember: Credentials;

const DENY_PROD = {
  action: 'run',
  subject: 'Workflow',
  inverted: true,
  conditions: { tags: 'prod' },
  reason: 'members may not run workflows tagged prod',
};

async function memberKey(tenant: OnboardedTenant): Promise<Credentials> {
  const key = await call(apiA.url, 'POST', '/api/v1/api-keys', {
    credentials: tenant.ownerKey,
    body: { name: 'member', role: 'member' },
  });
  return apiKey(key.body.api_key as string);
}

async function prodWorkflow(tenant: OnboardedTenant): Promise<string> {
  const created = await call(apiA.url, 'POST', '/api/v1/workflows', {
    credentials: tenant.ownerKey,
    body: {
      name: 'nightly',
      tags: ['prod'],
      definition: graph([{ id: 'start', type: 'trigger.manual' }], []),
    },
  });
  const id = created.body.id as string;
  await call(apiA.url, 'POST', `/api/v1/workflows/${id}/publish`, { credentials: tenant.ownerKey });
  return id;
}

const run = async (url: string, who: Credentials, workflowId: string) =>
  (await call(url, 'POST', `/api/v1/workflows/${workflowId}/run`, { credentials: who, body: {} })).status;

beforeAll(async () => {
  backends = await createTestBackends({ AUTH_POLICY_CACHE_MS: '60000' });
  apiA = await startTestApi(backends.env);
  apiB = await startTestApi(backends.env);
  const admin = await loginAdmin(apiA.url);
  acme = await onboardTenant(apiA.url, admin, 'acme');
  globex = await onboardTenant(apiA.url, admin, 'globex');
  member = await memberKey(acme);
  globexMember = await memberKey(globex);
}, 60_000);

afterAll(async () => {
  await apiA?.close();
  await apiB?.close();
  await backends?.cleanup();
});

describe('access policies cached per process', () => {
  it('a policy created, disabled, re-enabled or deleted through one process is enforced by the next request on another', async () => {
    const prod = await prodWorkflow(acme);
    // Both processes judge (and cache) the tenant without policies.
    for (const url of [apiA.url, apiB.url, apiA.url, apiB.url])
      expect(await run(url, member, prod)).toBe(201);

    const created = await call(apiA.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'no prod runs', rules: [DENY_PROD] },
    });
    expect(created.status).toBe(201);
    const policy = `/api/v1/policies/${created.body.id as string}`;
    expect(await run(apiB.url, member, prod)).toBe(403);
    expect(await run(apiA.url, member, prod)).toBe(403);

    // A change made behind the API's back sends no message: within the TTL both processes keep judging by what
    // they cached (no database read per request), which is what the message is for.
    const db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
    try {
      await db.query('UPDATE access_policies SET enabled = false WHERE id = $1', [created.body.id]);
    } finally {
      await db.end();
    }
    expect(await run(apiA.url, member, prod)).toBe(403);
    expect(await run(apiB.url, member, prod)).toBe(403);

    const body = (enabled: boolean) => ({ name: 'no prod runs', rules: [DENY_PROD], enabled });
    expect(
      (await call(apiB.url, 'PUT', policy, { credentials: acme.ownerKey, body: body(false) })).status,
    ).toBe(200);
    expect(await run(apiA.url, member, prod)).toBe(201);
    expect(await run(apiB.url, member, prod)).toBe(201);

    await call(apiA.url, 'PUT', policy, { credentials: acme.ownerKey, body: body(true) });
    expect(await run(apiB.url, member, prod)).toBe(403);

    expect((await call(apiB.url, 'DELETE', policy, { credentials: acme.ownerKey })).status).toBe(204);
    expect(await run(apiA.url, member, prod)).toBe(201);
    expect(await run(apiB.url, member, prod)).toBe(201);
  });

  it("one tenant's policy never reaches another tenant's cached judgement", async () => {
    const acmeProd = await prodWorkflow(acme);
    const globexProd = await prodWorkflow(globex);
    for (const url of [apiA.url, apiB.url]) expect(await run(url, globexMember, globexProd)).toBe(201);
    const created = await call(apiB.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'no prod runs again', rules: [DENY_PROD] },
    });
    expect(created.status).toBe(201);
    for (const url of [apiA.url, apiB.url]) {
      expect(await run(url, member, acmeProd)).toBe(403);
      expect(await run(url, globexMember, globexProd)).toBe(201);
    }
  });
});
