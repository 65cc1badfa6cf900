import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

type Report = {
  test_type: string;
  score: number;
  details: Array<{ test: string; passed: boolean; message: string }>;
};

let backends: TestBackends;
let api: RunningApi;
let weak: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;
let globex: OnboardedTenant;

async function verify(url: string, who: Credentials, testType: string): Promise<Report> {
  const res = await call(url, 'POST', '/api/v1/verification/test', { credentials: who, body: { testType } });
  expect(res.status).toBe(200);
  return res.body as unknown as Report;
}

const failedOf = (report: Report) => report.details.filter((d) => !d.passed).map((d) => d.test);

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  // The same deployment, deliberately weakened.
  weak = await startTestApi({
    ...backends.env,
    AUTH_BYPASS: 'true',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    HTTP_STEP_ALLOW_HOSTS: '169.254.169.254',
    BODY_LIMIT: '64mb',
    RUN_RETENTION_DAYS: '0',
  });
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  globex = await onboardTenant(api.url, admin, 'globex');
  await publish(api.url, globex, graph([{ id: 'start', type: 'trigger.manual' }], []));
}, 120_000);

afterAll(async () => {
  await weak?.close();
  await api?.close();
  await backends?.cleanup();
});

describe('verification suites against a correctly configured deployment', () => {
  it.each(['red-team', 'compliance', 'penetration'])(
    '%s: every check passes, score 100',
    async (testType) => {
      const report = await verify(api.url, admin, testType);
      expect(report.test_type).toBe(testType);
      expect(failedOf(report)).toEqual([]);
      expect(report.score).toBe(100);
      expect(report.details.length).toBeGreaterThanOrEqual(5);
      for (const detail of report.details) expect(detail.message).not.toBe('');
    },
  );

  it('runs different checks for different suites', async () => {
    const names = await Promise.all(
      ['red-team', 'compliance', 'penetration'].map(async (t) =>
        (await verify(api.url, admin, t)).details.map((d) => d.test),
      ),
    );
    expect(names[0]).toEqual(
      expect.arrayContaining([
        'cross-tenant id probes answer 404',
        'alg:none tokens refused',
        'SQL sandbox escapes refused',
        'SSRF to metadata refused',
        'rate limiting on',
      ]),
    );
    expect(names[1]).toEqual(
      expect.arrayContaining(['audit chain verifies', 'API keys stored hashed', 'AUTH_BYPASS off']),
    );
    expect(names[2]).toEqual(
      expect.arrayContaining([
        'security headers',
        'CORS does not reflect arbitrary origins',
        'body limit enforced',
        'error bodies free of stacks',
      ]),
    );
    expect(new Set(names.flat()).size).toBe(names.flat().length);
  });

  it('is for owners and admins, needs a testType, and is audited', async () => {
    const owner = await verify(api.url, acme.ownerKey, 'penetration');
    expect(owner.score).toBe(100);
    const member = await call(api.url, 'POST', '/api/v1/users', {
      credentials: acme.ownerKey,
      body: { email: 'member@acme.test', password: 'member-password-1', role: 'member' },
    });
    expect(member.status).toBe(201);
    const login = await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'member@acme.test', password: 'member-password-1' },
    });
    const asMember = { headers: { authorization: `Bearer ${login.body.token as string}` } };
    expect(
      (
        await call(api.url, 'POST', '/api/v1/verification/test', {
          credentials: asMember,
          body: { testType: 'red-team' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await call(api.url, 'POST', '/api/v1/verification/test', { body: { testType: 'red-team' } })).status,
    ).toBe(401);
    const missing = await call(api.url, 'POST', '/api/v1/verification/test', {
      credentials: admin,
      body: {},
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error_code).toBe('VALIDATION_ERROR');
    expect(
      (
        await call(api.url, 'POST', '/api/v1/verification/test', {
          credentials: admin,
          body: { testType: 'chaos' },
        })
      ).status,
    ).toBe(400);
    const events = await call(api.url, 'GET', '/api/v1/audit/events?resource_type=verification', {
      credentials: acme.ownerKey,
    });
    expect(events.body.items?.[0]).toMatchObject({
      action: 'verification.run',
      resource_id: 'penetration',
      metadata: { score: 100, failed: [] },
    });
  });

  it('flags webhook secrets kept as issued (passes once they are stored encrypted)', async () => {
    const workflow = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.webhook' }], []));
    const rotated = await call(api.url, 'POST', `/api/v1/workflows/${workflow}/webhook-secret`, {
      credentials: acme.ownerKey,
    });
    expect(rotated.status).toBe(200);
    const db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
    const stored = (await db.query<{ secret: string }>('SELECT secret FROM webhook_secrets')).rows;
    await db.end();
    const inClear = stored.some((row) => row.secret === rotated.body.secret);
    const check = (await verify(api.url, admin, 'compliance')).details.find(
      (d) => d.test === 'webhook secrets not in clear',
    );
    expect(check?.passed).toBe(!inClear);
    if (inClear) expect(check?.message).toMatch(/stored in clear/);
  });
});

describe('verification suites against a deliberately weakened deployment', () => {
  it('red-team: bypassed auth, an SSRF allow-list hole and no login limit fail their checks', async () => {
    const report = await verify(weak.url, admin, 'red-team');
    expect(failedOf(report)).toEqual(
      expect.arrayContaining([
        'cross-tenant id probes answer 404',
        'forged tokens refused',
        'alg:none tokens refused',
        'SSRF to metadata refused',
        'rate limiting on',
      ]),
    );
    expect(report.score).toBeLessThan(50);
    expect(report.details.find((d) => d.test === 'rate limiting on')?.message).toMatch(
      /RATE_LIMIT_LOGIN_PER_MINUTE is 100000/,
    );
  });

  it('compliance: AUTH_BYPASS and no run retention fail their checks', async () => {
    const report = await verify(weak.url, admin, 'compliance');
    expect(failedOf(report)).toEqual(
      expect.arrayContaining(['AUTH_BYPASS off', 'retention settings present']),
    );
    expect(failedOf(report)).not.toContain('audit chain verifies');
    expect(report.score).toBeLessThan(100);
  });

  it('penetration: anonymous operator access and an oversized body limit fail their checks', async () => {
    const report = await verify(weak.url, admin, 'penetration');
    expect(failedOf(report).sort()).toEqual(['body limit enforced', 'operator endpoints need credentials']);
    expect(report.score).toBe(60);
  });
});
