import { generateKeyPairSync, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import {
  apiKey,
  bearer,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
  signToken,
} from '../../support/auth';
import {
  createTestBackends,
  type RunningApi,
  startTestApi,
  TEST_JWT_SECRET,
  type TestBackends,
} from '../../support/harness';

const ISSUER = 'https://idp.example.test/auth/v1';
const AUDIENCE = 'conflux-api';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let jwks: Server;
let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;
let db: Client;

beforeAll(async () => {
  // A stand-in IdP: serves its public keys as a JWKS on loopback.
  const keys = [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwks = createServer((_req, res) =>
    res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys })),
  );
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const port = (jwks.address() as { port: number }).port;
  backends = await createTestBackends({
    JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_MAX_AGE_SECONDS: '600',
  });
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
  await new Promise((resolve) => jwks?.close(resolve));
});

const me = (credentials?: Credentials) => call(api.url, 'GET', '/api/v1/auth/me', { credentials });
const idp = { issuer: ISSUER, audience: AUDIENCE };

async function expectInvalid(token: string) {
  const res = await me(bearer(token));
  expect(res.status).toBe(401);
  expect(res.body.error_code).toBe('INVALID_TOKEN');
}

describe('JWT verification', () => {
  it('accepts HS256, RS256 and ES256 tokens from the IdP with tenant claims', async () => {
    const claims = { tenant_id: 'acme', role: 'member' };
    const hs = await me(bearer(signToken(claims, { ...idp, subject: 'u-1' })));
    expect(hs.body).toMatchObject({ tenant_id: 'acme', role: 'member', via: 'jwt', user_id: 'u-1' });
    const rs = await me(
      bearer(signToken(claims, { ...idp, algorithm: 'RS256', keyid: 'rsa-1' }, rsa.privateKey)),
    );
    expect(rs.status).toBe(200);
    const es = await me(
      bearer(signToken(claims, { ...idp, algorithm: 'ES256', keyid: 'ec-1' }, ec.privateKey)),
    );
    expect(es.status).toBe(200);
  });

  it('reads Supabase-style app_metadata and treats an unknown role as viewer', async () => {
    const token = signToken(
      { role: 'authenticated', app_metadata: { tenant_id: 'acme' } },
      { ...idp, subject: 'sb-user' },
    );
    expect((await me(bearer(token))).body).toMatchObject({ tenant_id: 'acme', role: 'viewer' });
  });

  it('honours the compatibility tokens: sub=admin and sub=<tenant_id>', async () => {
    expect((await me(bearer(signToken({}, { ...idp, subject: 'admin' })))).body).toMatchObject({
      role: 'admin',
    });
    expect((await me(bearer(signToken({}, { ...idp, subject: 'acme' })))).body).toMatchObject({
      role: 'owner',
      tenant_id: 'acme',
    });
  });

  it('refuses alg none', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    await expectInvalid(
      `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now + 60 })}.`,
    );
  });

  it('refuses HS/RS confusion: an HMAC made with the public key', async () => {
    const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    await expectInvalid(signToken({ tenant_id: 'acme' }, { ...idp, keyid: 'rsa-1' }, publicPem));
  });

  it('refuses expired, not-yet-valid, wrongly signed, wrong iss, wrong or missing aud, and garbage', async () => {
    const claims = { tenant_id: 'acme', role: 'owner' };
    const now = Math.floor(Date.now() / 1000);
    await expectInvalid(signToken({ ...claims, exp: now - 60 }, idp));
    await expectInvalid(signToken(claims, { ...idp, notBefore: 600 }));
    await expectInvalid(signToken(claims, idp, 'another-secret-that-is-long-enough-000'));
    await expectInvalid(signToken(claims, { ...idp, issuer: 'https://evil.example' }));
    await expectInvalid(signToken(claims, { ...idp, audience: 'someone-else' }));
    await expectInvalid(signToken(claims, { issuer: ISSUER }));
    await expectInvalid(
      signToken(claims, { ...idp, algorithm: 'RS256', keyid: 'unknown-kid' }, rsa.privateKey),
    );
    await expectInvalid('not.a.jwt');
    await expectInvalid('x');
  });

  it('with JWT_MAX_AGE_SECONDS, judges a token without exp by its iat, and one with exp by its exp alone', async () => {
    const now = Math.floor(Date.now() / 1000);
    // No `expiresIn`: these carry no exp at all.
    const noExp = (iat?: number) =>
      jwt.sign(
        { tenant_id: 'acme', role: 'member', ...(iat === undefined ? {} : { iat }) },
        TEST_JWT_SECRET,
        {
          algorithm: 'HS256',
          ...idp,
          noTimestamp: iat === undefined,
        },
      );
    expect((await me(bearer(noExp(now - 60)))).status).toBe(200);
    await expectInvalid(noExp(now - 3600));
    await expectInvalid(noExp());
    // Issued long ago, still valid by its exp: the age limit is for tokens that lack one.
    expect(
      (await me(bearer(signToken({ tenant_id: 'acme', iat: now - 7200, exp: now + 60 }, idp)))).status,
    ).toBe(200);
  });

  it('answers 401 AUTHENTICATION_REQUIRED without any credential', async () => {
    const res = await me();
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('AUTHENTICATION_REQUIRED');
  });

  it('refuses a wrong password and never says whether the email exists', async () => {
    const wrong = await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { email: acme.ownerEmail, password: 'wrong-password' },
    });
    const unknown = await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'nobody@x.test', password: 'wrong-password' },
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.message).toBe(unknown.body.message);
  });
});

describe('API keys', () => {
  it('shows the key once, stores only its hash, and refuses it right after revocation', async () => {
    const created = await call(api.url, 'POST', '/api/v1/api-keys', {
      credentials: acme.ownerKey,
      body: { name: 'ci', role: 'member' },
    });
    expect(created.status).toBe(201);
    const key = created.body.api_key as string;
    expect(created.body).toMatchObject({ name: 'ci', role: 'member', prefix: key.slice(0, 12) });

    const row = await db.query<{ key_hash: string }>('SELECT * FROM api_keys WHERE id = $1', [
      created.body.id,
    ]);
    expect(row.rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(row.rows[0])).not.toContain(key.slice(13));

    const listed = await call(api.url, 'GET', '/api/v1/api-keys', { credentials: acme.ownerKey });
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(13));
    expect(listed.body.items?.find((item) => item.id === created.body.id)).not.toHaveProperty('api_key');

    expect((await me(apiKey(key))).body).toMatchObject({ role: 'member', tenant_id: 'acme', via: 'api_key' });
    expect((await me(bearer(key))).status).toBe(200);
    const used = await db.query<{ last_used_at: Date | null }>(
      'SELECT last_used_at FROM api_keys WHERE id = $1',
      [created.body.id],
    );
    expect(used.rows[0].last_used_at).not.toBeNull();

    const revoked = await call(api.url, 'DELETE', `/api/v1/api-keys/${created.body.id as string}`, {
      credentials: acme.ownerKey,
    });
    expect(revoked.status).toBe(204);
    const after = await me(apiKey(key));
    expect(after.status).toBe(401);
    expect(after.body.error_code).toBe('INVALID_TOKEN');
  });

  it('refuses a malformed key, and a well-formed key that does not exist', async () => {
    expect((await me(apiKey('cfx_nope'))).status).toBe(401);
    expect((await me(apiKey(`cfx_AAAAAAAA_${'a'.repeat(43)}`))).status).toBe(401);
  });
});
