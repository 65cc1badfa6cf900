import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  bearer,
  call,
  type Credentials,
  loginAdmin,
  type OnboardedTenant,
  onboardTenant,
} from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

/** The identity provider's people: `login` is what the test types into its sign-in form. */
const PEOPLE: Record<string, { email: string; email_verified: boolean }> = {
  alice: { email: 'Alice@Acme.test', email_verified: true },
  bob: { email: 'bob@acme.test', email_verified: true },
  mallory: { email: 'mallory@acme.test', email_verified: false },
  eve: { email: 'eve@evil.test', email_verified: true },
  umbra: { email: 'owner@umbrella.test', email_verified: true },
};

// oidc-provider ships no type declarations: imported by a name tsc does not resolve, the little used typed below.
const IDP_MODULE: string = 'oidc-provider';

let backends: TestBackends;
let api: RunningApi;
let idp: Server;
let issuer: string;
let admin: Credentials;
let acme: OnboardedTenant;

beforeAll(async () => {
  // The provider's port first (the API's config names its issuer), its client once the API's callback is known.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  idp = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

  backends = await createTestBackends();
  api = await startTestApi({
    ...backends.env,
    RATE_LIMIT_LOGIN_PER_MINUTE: '10000',
    SSO_PROVIDERS: JSON.stringify([
      {
        id: 'test-idp',
        issuer,
        client_id: 'conflux',
        client_secret: 'conflux-client-secret-0123456789',
        tenant_id: 'acme',
        default_role: 'member',
        allowed_domains: ['acme.test', 'umbrella.test'],
        redirect_uris: ['http://spa.test/sso'],
      },
    ]),
  });
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  await onboardTenant(api.url, admin, 'umbrella');

  const { default: Provider } = (await import(IDP_MODULE)) as {
    default: new (
      issuer: string,
      configuration: Record<string, unknown>,
    ) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  };
  // Its development-mode notices (dev interactions, default TTLs) are expected here; keep the output readable.
  for (const method of ['warn', 'info'] as const)
    jest.spyOn(console, method).mockImplementation(() => undefined);
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'conflux',
        client_secret: 'conflux-client-secret-0123456789',
        redirect_uris: [`${api.url}/api/v1/auth/sso/test-idp/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    cookies: { keys: ['idp-cookie-key-0123456789'] },
    findAccount: (_ctx: unknown, id: string) =>
      PEOPLE[id] && { accountId: id, claims: () => ({ sub: id, ...PEOPLE[id] }) },
  });
  handler = provider.callback();
});

afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => idp?.close(resolve));
  await backends?.cleanup();
});

/** A browser: a cookie jar, redirects followed by hand, the provider's sign-in and consent forms filled in. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * From the provider's authorization URL to the API callback URL it redirects to (not fetched): follows 30x,
   * signs in as `login` on the provider's form and confirms its consent screen.
   */
  async authorize(authorizationUrl: string, login: string): Promise<string> {
    let url = authorizationUrl;
    for (let hop = 0; hop < 20; hop++) {
      if (url.startsWith(api.url)) return url;
      const res = await this.request(url);
      const location = res.headers.get('location');
      if (location) {
        url = new URL(location, url).href;
        continue;
      }
      const html = await res.text();
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(html);
      if (!form) throw new Error(`no redirect and no form at ${url} (${res.status}): ${html.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
        fields.set(name, value);
      if (html.includes('name="login"')) {
        fields.set('login', login);
        fields.set('password', 'any password');
      }
      const posted = await this.request(new URL(form[1], url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.toString(),
      });
      const next = posted.headers.get('location');
      if (!next) throw new Error(`form post at ${form[1]} answered ${posted.status}: ${await posted.text()}`);
      url = new URL(next, url).href;
    }
    throw new Error('too many hops');
  }
}

async function startLogin(query = ''): Promise<URL> {
  const res = await fetch(`${api.url}/api/v1/auth/sso/test-idp/login${query}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') as string);
}

async function signIn(browser: Browser, login: string) {
  const callback = await browser.authorize((await startLogin()).href, login);
  return { callback, res: await call(api.url, 'GET', callback.slice(api.url.length)) };
}

async function acmeUsers(): Promise<string[]> {
  const res = await call(api.url, 'GET', '/api/v1/users?limit=100', { credentials: acme.ownerKey });
  return (res.body.items ?? []).map((u) => u.email as string);
}

async function auditTypes(userId: string): Promise<string[]> {
  const res = await call(api.url, 'GET', `/api/v1/audit/events?resource_type=user&resource_id=${userId}`, {
    credentials: acme.ownerKey,
  });
  return (res.body.items ?? []).map((e) => e.event_type as string);
}

describe('single sign-on against a real OpenID Connect provider', () => {
  it('redirects with PKCE S256, state and nonce', async () => {
    const url = await startLogin();
    expect(url.origin).toBe(issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('redirect_uri')).toBe(`${api.url}/api/v1/auth/sso/test-idp/callback`);
  });

  it('provisions a new user into the tenant, whose token works; a second login links to the same user', async () => {
    const browser = new Browser();
    const first = await signIn(browser, 'alice');
    expect(first.res.status).toBe(200);
    expect(first.res.body.token_type).toBe('Bearer');
    const me = await call(api.url, 'GET', '/api/v1/auth/me', {
      credentials: bearer(first.res.body.token as string),
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      tenant_id: 'acme',
      role: 'member',
      email: 'alice@acme.test',
      via: 'jwt',
    });
    expect(await acmeUsers()).toContain('alice@acme.test');

    // Replaying the callback (same state, same code) is refused.
    const replay = await call(api.url, 'GET', first.callback.slice(api.url.length));
    expect(replay.status).toBe(401);
    expect(replay.body.error_code).toBe('INVALID_TOKEN');
    expect(replay.body.message).toContain('already used state');

    const again = await signIn(browser, 'alice');
    expect(again.res.status).toBe(200);
    const me2 = await call(api.url, 'GET', '/api/v1/auth/me', {
      credentials: bearer(again.res.body.token as string),
    });
    expect(me2.body.user_id).toBe(me.body.user_id);
    const types = await auditTypes(me.body.user_id as string);
    expect(types.filter((t) => t === 'user.provisioned')).toHaveLength(1);
    expect(types.filter((t) => t === 'auth.sso.login')).toHaveLength(2);
    expect((await acmeUsers()).filter((e) => e === 'alice@acme.test')).toHaveLength(1);
  });

  it('links an existing user of the tenant by verified email', async () => {
    const created = await call(api.url, 'POST', '/api/v1/users', {
      credentials: acme.ownerKey,
      body: { email: 'bob@acme.test', role: 'viewer' },
    });
    const { res } = await signIn(new Browser(), 'bob');
    expect(res.status).toBe(200);
    const me = await call(api.url, 'GET', '/api/v1/auth/me', {
      credentials: bearer(res.body.token as string),
    });
    expect(me.body).toMatchObject({ user_id: created.body.id, role: 'viewer', tenant_id: 'acme' });
    expect(await auditTypes(created.body.id as string)).toEqual(
      expect.arrayContaining(['user.linked', 'auth.sso.login']),
    );
  });

  it('returns to an allow-listed SPA address with the token in the fragment', async () => {
    const browser = new Browser();
    const callback = await browser.authorize(
      (await startLogin('?redirect_uri=http://spa.test/sso')).href,
      'alice',
    );
    const res = await fetch(callback, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe('http://spa.test/sso');
    const fragment = new URLSearchParams(location.hash.slice(1));
    const me = await call(api.url, 'GET', '/api/v1/auth/me', {
      credentials: bearer(fragment.get('token') as string),
    });
    expect(me.body.email).toBe('alice@acme.test');

    const other = await fetch(`${api.url}/api/v1/auth/sso/test-idp/login?redirect_uri=http://evil.test/`, {
      redirect: 'manual',
    });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error_code: string }).error_code).toBe('VALIDATION_ERROR');
  });

  it('refuses a tampered code and a token minted for another nonce', async () => {
    const browser = new Browser();
    const callback = new URL(await browser.authorize((await startLogin()).href, 'alice'));
    callback.searchParams.set('code', `${callback.searchParams.get('code')}x`);
    const tampered = await call(api.url, 'GET', `${callback.pathname}${callback.search}`);
    expect(tampered.status).toBe(401);
    expect(tampered.body.error_code).toBe('INVALID_TOKEN');

    // The browser is sent to the provider with another nonce than the one the API bound to the state.
    const url = await startLogin();
    url.searchParams.set('nonce', 'a-nonce-the-api-never-issued');
    const wrong = await browser.authorize(url.href, 'alice');
    const res = await call(api.url, 'GET', wrong.slice(api.url.length));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/nonce/i);
  });

  it.each([
    ['mallory', 'verified email', 'mallory@acme.test'],
    ['eve', "domain 'evil.test' is not allowed", 'eve@evil.test'],
    ['umbra', "cannot be linked to tenant 'acme'", 'owner@umbrella.test'],
  ])('refuses %s (%s) with 403 and provisions nothing', async (login, message, email) => {
    const { res } = await signIn(new Browser(), login);
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INSUFFICIENT_PERMISSIONS');
    expect(res.body.message).toContain(message);
    expect(await acmeUsers()).not.toContain(email);
  });

  it('answers 404 for an unknown provider and 401 for a callback without a login', async () => {
    const unknown = await call(api.url, 'GET', '/api/v1/auth/sso/nope/login');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_code).toBe('SSO_PROVIDER_NOT_FOUND');
    const stray = await call(api.url, 'GET', '/api/v1/auth/sso/test-idp/callback?code=abc&state=forged');
    expect(stray.status).toBe(401);
  });
});
