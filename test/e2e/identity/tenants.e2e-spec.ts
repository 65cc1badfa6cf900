import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let starter: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  starter = await onboardTenant(api.url, admin, 'tiny', 'STARTER');
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

describe('tenants', () => {
  it('changes config only against the current config_version', async () => {
    const path = '/api/v1/tenants/tiny';
    const first = await call(api.url, 'PATCH', path, {
      credentials: starter.ownerKey,
      body: { config: { region: 'eu' }, config_version: 1 },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ config: { region: 'eu' }, config_version: 2 });

    const stale = await call(api.url, 'PATCH', path, {
      credentials: starter.ownerKey,
      body: { config: { region: 'us' }, config_version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error_code: 'CONFLICT', details: { current_config_version: 2 } });

    const missing = await call(api.url, 'PATCH', path, {
      credentials: starter.ownerKey,
      body: { config: { region: 'us' } },
    });
    expect(missing.status).toBe(422);

    const now = await call(api.url, 'GET', path, { credentials: starter.ownerKey });
    expect(now.body).toMatchObject({
      config: { region: 'eu' },
      config_version: 2,
      subscription_plan: 'STARTER',
    });
  });

  it('lets only a platform admin change state and plan', async () => {
    const owner = await call(api.url, 'PATCH', '/api/v1/tenants/tiny', {
      credentials: starter.ownerKey,
      body: { subscription_plan: 'SCALE' },
    });
    expect(owner.status).toBe(403);
    const byAdmin = await call(api.url, 'PATCH', '/api/v1/tenants/tiny', {
      credentials: admin,
      body: { subscription_plan: 'PROFESSIONAL' },
    });
    expect(byAdmin.body).toMatchObject({ subscription_plan: 'PROFESSIONAL' });
    await call(api.url, 'PATCH', '/api/v1/tenants/tiny', {
      credentials: admin,
      body: { subscription_plan: 'STARTER' },
    });
  });

  it('answers 404 TENANT_NOT_FOUND for an unknown tenant (as admin)', async () => {
    const res = await call(api.url, 'GET', '/api/v1/tenants/nobody', { credentials: admin });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_code: 'TENANT_NOT_FOUND', message: "Tenant 'nobody' not found" });
  });

  it('reports plan limits and real usage', async () => {
    const quota = await call(api.url, 'GET', '/api/v1/tenants/tiny/quota', { credentials: starter.ownerKey });
    expect(quota.body).toMatchObject({
      tenant_id: 'tiny',
      subscription_plan: 'STARTER',
      limits: { daily_pipelines: 6, concurrent_pipelines: 3, team_members: 2, providers: 3 },
      usage: { daily_pipelines: 0, concurrent_pipelines: 0, team_members: 1, providers: 0 },
    });
    expect(Date.parse(quota.body.resets_at as string) - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
  });

  it("enforces the plan's team-member limit, also under concurrent requests", async () => {
    // STARTER allows 2 members and the owner is one: of five concurrent invitations exactly one fits.
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call(api.url, 'POST', '/api/v1/users', {
          credentials: starter.ownerKey,
          body: { email: `m${i}@tiny.test`, role: 'member' },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403]);
    expect(results.find((r) => r.status === 403)?.body.error_code).toBe('PLAN_LIMIT_REACHED');
    const users = await call(api.url, 'GET', '/api/v1/users', { credentials: starter.ownerKey });
    expect(users.body.total).toBe(2);
  });

  it('answers 409 for an email that already exists', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', {
      credentials: admin,
      body: { email: starter.ownerEmail, role: 'viewer' },
      headers: {},
    });
    expect(res.status).toBe(400); // an admin must name the tenant
    const dup = await call(api.url, 'POST', '/api/v1/users?tenantId=tiny', {
      credentials: admin,
      body: { email: starter.ownerEmail.toUpperCase(), role: 'viewer' },
    });
    expect([dup.status, dup.body.error_code]).toEqual([409, 'CONFLICT']);
  });
});
