import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { IDEMPOTENCY_LOCK, lockName } from '../../../src/core/http/idempotency/idempotency.repository';
import { startWorker } from '../../../src/worker';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { CrashModule } from '../../fixtures/crash.controller';
import {
  createTestBackends,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
  relaxRateLimits,
} from '../../support/harness';

let backends: TestBackends;
let api1: RunningApi;
let api2: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;
let globex: OnboardedTenant;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends();
  // Two API processes' worth of app on one database and one Redis.
  api1 = await startTestApi(backends.env, { imports: [CrashModule] });
  api2 = await startTestApi(backends.env, { imports: [CrashModule] });
  admin = await loginAdmin(api1.url);
  acme = await onboardTenant(api1.url, admin, 'acme');
  globex = await onboardTenant(api1.url, admin, 'globex');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  // This file is about idempotency: give the tenants' plan room for the bursts (rate limits have their own file).
  await relaxRateLimits(backends);
});

afterAll(async () => {
  await db?.end();
  await api1?.close();
  await api2?.close();
  await backends?.cleanup();
});

const createKey = (url: string, who: OnboardedTenant, key: string, name: string) =>
  call(url, 'POST', '/api/v1/api-keys', {
    credentials: who.ownerKey,
    headers: { 'x-idempotency-key': key },
    body: { name },
  });

const keysNamed = async (name: string) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE name = $1', [name])).rows[0]
    .n;

describe('idempotency keys', () => {
  it('creates exactly one resource from 100 concurrent identical requests over two instances', async () => {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => createKey(i % 2 ? api2.url : api1.url, acme, 'burst-1', 'burst')),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThan(0);
    // The key itself is shown once: to the request that created it, never to a replay.
    const originals = created.filter((r) => r.headers.get('idempotent-replayed') === null);
    expect(originals).toHaveLength(1);
    expect(originals[0].body.api_key).toMatch(/^cfx_/);
    const { api_key: plaintext, ...resource } = originals[0].body;
    for (const res of created.filter((r) => r !== originals[0])) {
      expect(res.body).toEqual(resource);
      expect(res.headers.get('idempotent-secrets-withheld')).toBe('api_key');
    }
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(res.body.error_code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.retry_after).toBe(1);
    }
    expect(await keysNamed('burst')).toBe(1);

    const replay = await createKey(api2.url, acme, 'burst-1', 'burst');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(resource);
    const stored = await db.query<{ body: string }>(
      'SELECT response_body::text AS body FROM idempotency_keys',
    );
    expect(stored.rows.length).toBeGreaterThan(0);
    expect(stored.rows.some((row) => row.body.includes(plaintext as string))).toBe(false);
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After while the first request holds the key', async () => {
    await db.query('BEGIN');
    try {
      await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        IDEMPOTENCY_LOCK,
        lockName('acme', 'held'),
      ]);
      const res = await createKey(api1.url, acme, 'held', 'held');
      expect(res.status).toBe(409);
      expect(res.body.error_code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await db.query('ROLLBACK');
    }
    expect((await createKey(api1.url, acme, 'held', 'held')).status).toBe(201);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    expect((await createKey(api1.url, acme, 'reuse', 'first')).status).toBe(201);
    const res = await createKey(api2.url, acme, 'reuse', 'second');
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await keysNamed('second')).toBe(0);
  });

  it("keeps keys per tenant: another tenant's identical key gets its own fresh result", async () => {
    const a = await createKey(api1.url, acme, 'shared-key', 'shared');
    const b = await createKey(api1.url, globex, 'shared-key', 'shared');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    expect(await keysNamed('shared')).toBe(2);
  });

  it('never replays or stores the owner key and generated password of an onboarding', async () => {
    const onboard = () =>
      call(api1.url, 'POST', '/api/v1/tenants/onboard', {
        credentials: admin,
        headers: { 'x-idempotency-key': 'onboard-initech' },
        body: {
          tenant_id: 'initech',
          company_name: 'Initech',
          admin_email: 'owner@initech.test',
          subscription_plan: 'STARTER',
        },
      });
    const first = await onboard();
    expect(first.status).toBe(201);
    const { api_key: key, admin_password: password } = first.body as {
      api_key: string;
      admin_password: string;
    };
    expect([key, password].every((secret) => typeof secret === 'string' && secret.length >= 8)).toBe(true);
    const replay = await onboard();
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(replay.headers.get('idempotent-secrets-withheld')).toBe('api_key, admin_password');
    expect(replay.body).not.toHaveProperty('api_key');
    expect(replay.body).not.toHaveProperty('admin_password');
    expect(replay.body.tenant_id).toBe('initech');
    const stored = await db.query<{ body: string }>(
      'SELECT response_body::text AS body FROM idempotency_keys',
    );
    expect(stored.rows.some((row) => row.body.includes(key) || row.body.includes(password))).toBe(false);
  });

  it('refuses a key over 255 characters with 400', async () => {
    const res = await createKey(api1.url, acme, 'k'.repeat(256), 'long');
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
  });

  it('leaves neither resource nor record when the process dies after the write, so a retry creates one', async () => {
    const crash = () =>
      call(api1.url, 'POST', '/api/v1/fixture/crash-after-create', {
        credentials: acme.ownerKey,
        headers: { 'x-idempotency-key': 'crash' },
        body: {},
      });
    expect((await crash()).status).toBe(500);
    expect(await keysNamed('crash-test')).toBe(0);
    const retry = await crash();
    expect(retry.status).toBe(201);
    expect((await crash()).headers.get('idempotent-replayed')).toBe('true');
    expect(await keysNamed('crash-test')).toBe(1);
  });

  it('keeps records 24 h: the worker cleanup job deletes expired ones only', async () => {
    await db.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'reuse'`,
    );
    const worker = await startWorker({ env: backends.env });
    try {
      await waitFor(
        async () => (await db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'reuse'`)).rowCount === 0,
        'the cleanup job to run',
      );
      const left = await db.query<{ key: string }>(`SELECT key FROM idempotency_keys WHERE key = 'burst-1'`);
      expect(left.rows).toEqual([{ key: 'burst-1' }]);
    } finally {
      await worker.close();
    }
  });
});
