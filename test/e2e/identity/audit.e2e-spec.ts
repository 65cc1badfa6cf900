import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

type Event = {
  event_type: string;
  actor: string;
  performed_by: string;
  action: string;
  resource_id: string;
  x_user_id: string | null;
  seq: number;
};

const events = async (query = '') =>
  (await call(api.url, 'GET', `/api/v1/audit/events?limit=100${query}`, { credentials: acme.ownerKey })).body
    .items as unknown as Event[];

describe('audit trail', () => {
  it('records each mutation with its actor, the X-User-ID, and the SPEC aliases', async () => {
    const me = await call(api.url, 'GET', '/api/v1/auth/me', { credentials: acme.ownerKey });
    const ownerKeyId = me.body.api_key_id as string;
    const adminMe = await call(api.url, 'GET', '/api/v1/auth/me', { credentials: admin });

    const user = await call(api.url, 'POST', '/api/v1/users', {
      credentials: acme.ownerKey,
      headers: { 'x-user-id': 'dashboard-user-7' },
      body: { email: 'new@acme.test', role: 'member' },
    });
    expect(user.status).toBe(201);

    const trail = await events();
    const created = trail.find((e) => e.event_type === 'user.created' && e.resource_id === user.body.id);
    expect(created).toMatchObject({
      actor: `api_key:${ownerKeyId}`,
      performed_by: `api_key:${ownerKeyId}`,
      action: 'user.created',
      x_user_id: 'dashboard-user-7',
    });
    const onboarded = trail.find((e) => e.event_type === 'tenant.onboarded');
    expect(onboarded).toMatchObject({ actor: `user:${adminMe.body.user_id as string}`, resource_id: 'acme' });
    expect(trail.map((e) => e.event_type)).toEqual(
      expect.arrayContaining(['user.created', 'api_key.created', 'tenant.onboarded']),
    );

    const filtered = await events(`&resource_type=user&resource_id=${user.body.id as string}`);
    expect(filtered.map((e) => e.event_type)).toEqual(['user.created']);
  });

  it('is append-only in the database itself', async () => {
    await expect(db.query(`UPDATE audit_events SET actor = 'someone-else'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
  });

  it('keeps one gap-free chain under concurrent mutations', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(api.url, 'POST', '/api/v1/api-keys', {
          credentials: acme.ownerKey,
          body: { name: `parallel-${i}` },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const verify = await call(api.url, 'GET', '/api/v1/audit/verify', { credentials: acme.ownerKey });
    expect(verify.body).toMatchObject({ valid: true, first_broken: null });
    const { rows } = await db.query<{ n: number; top: number }>(
      `SELECT count(*)::int AS n, max(seq)::int AS top FROM audit_events WHERE tenant_id = 'acme'`,
    );
    expect(verify.body.checked).toBe(rows[0].n);
    expect(rows[0].top).toBe(rows[0].n);
  });

  it('names the first event changed behind the API', async () => {
    const target = (
      await db.query(`SELECT event_id, seq FROM audit_events WHERE tenant_id = 'acme' AND seq = 3`)
    ).rows[0] as {
      event_id: string;
      seq: string;
    };
    // As the superuser, with the trigger out of the way: what an attacker with database access could do.
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
    try {
      await db.query(`UPDATE audit_events SET details = '{"role": "owner"}' WHERE event_id = $1`, [
        target.event_id,
      ]);
    } finally {
      await db.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
    }
    const verify = await call(api.url, 'GET', '/api/v1/audit/verify', { credentials: acme.ownerKey });
    expect(verify.body).toEqual({
      valid: false,
      checked: 2,
      first_broken: { event_id: target.event_id, seq: 3, reason: 'content does not match its hash' },
    });
  });
});
