import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import { testRedisUrl } from '../../support/backends';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

const Q = 20;

let backends: TestBackends;
let api1: RunningApi;
let api2: RunningApi;
let admin: Credentials;
let small: OnboardedTenant;
let big: OnboardedTenant;
let member: Credentials;

beforeAll(async () => {
  backends = await createTestBackends({ RATE_LIMIT_LOGIN_PER_MINUTE: '5' });
  api1 = await startTestApi(backends.env);
  api2 = await startTestApi(backends.env);
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  await db.query(`UPDATE plans SET requests_per_minute = $1 WHERE code = 'STARTER'`, [Q]);
  await db.end();
  admin = await loginAdmin(api1.url);
  small = await onboardTenant(api1.url, admin, 'small', 'STARTER');
  big = await onboardTenant(api1.url, admin, 'big', 'SCALE');
});

afterAll(async () => {
  await api1?.close();
  await api2?.close();
  await backends?.cleanup();
});

/** Fixed one-minute windows: start a counted sequence early in a window so it cannot straddle two. */
async function freshMinute(): Promise<void> {
  const redis = new Redis(testRedisUrl());
  const [seconds] = await redis.time();
  redis.disconnect();
  const intoMinute = Number(seconds) % 60;
  if (intoMinute > 40) await new Promise((resolve) => setTimeout(resolve, (61 - intoMinute) * 1000));
}

describe('rate limits', () => {
  it(`gives exactly ${Q} successes and then 429s with headers, across two instances, other tenants unaffected`, async () => {
    await freshMinute();
    // One request to learn the budget, and a member key made by the owner: two of the Q.
    const created = await call(api1.url, 'POST', '/api/v1/api-keys', {
      credentials: small.ownerKey,
      body: { name: 'm', role: 'member' },
    });
    member = apiKey(created.body.api_key as string);
    const first = await call(api2.url, 'GET', '/api/v1/auth/me', { credentials: small.ownerKey });
    expect(first.headers.get('x-ratelimit-tenant-limit')).toBe(String(Q));
    expect(first.headers.get('x-ratelimit-tenant-remaining')).toBe(String(Q - 2));
    expect(first.headers.get('ratelimit-policy')).toContain(`"tenant-minute";q=${Q};w=60`);
    expect(first.headers.get('ratelimit-policy')).toContain('"tenant-hour";q=1000;w=3600');

    // A 403 (member on an owner route) does not spend the budget.
    const forbidden = await call(api1.url, 'GET', '/api/v1/users', { credentials: member });
    expect(forbidden.status).toBe(403);
    const denied = await call(api1.url, 'GET', '/api/v1/tenants/big', { credentials: small.ownerKey });
    expect(denied.status).toBe(403);

    const statuses: number[] = [];
    const remaining: string[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < Q - 2 + 10; i += 1) {
      const res = await call(i % 2 ? api2.url : api1.url, 'GET', '/api/v1/auth/me', {
        credentials: small.ownerKey,
      });
      statuses.push(res.status);
      remaining.push(res.headers.get('x-ratelimit-tenant-remaining') ?? '');
      if (res.status === 429) limited = res;
      // Meanwhile another tenant is served as usual.
      expect((await call(api1.url, 'GET', '/api/v1/auth/me', { credentials: big.ownerKey })).status).toBe(
        200,
      );
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(Q - 2);
    expect(statuses.slice(Q - 2)).toEqual(Array(10).fill(429));
    expect(remaining.slice(0, Q - 2)).toEqual(Array.from({ length: Q - 2 }, (_, i) => String(Q - 3 - i)));

    expect(limited?.body).toMatchObject({ error_code: 'RATE_LIMITED', retry_after: expect.any(Number) });
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited?.body.retry_after).toBe(retryAfter);
    expect(limited?.headers.get('x-ratelimit-tenant-remaining')).toBe('0');
    expect(limited?.headers.get('ratelimit')).toMatch(/^"tenant-minute";r=0;t=\d+$/);
  });

  it('limits login attempts per IP, whatever the credentials', async () => {
    await freshMinute();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await call(api1.url, 'POST', '/api/v1/auth/login', {
        body: { email: `x${i}@y.test`, password: 'wrong-password' },
      });
      statuses.push(res.status);
    }
    // loginAdmin in setup already spent one of the 5 attempts in its window, or none if a new minute began.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(4);
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });

  it('does not limit health probes', async () => {
    const res = await fetch(`${api1.url}/health`);
    expect(res.headers.get('ratelimit')).toBeNull();
  });
});
