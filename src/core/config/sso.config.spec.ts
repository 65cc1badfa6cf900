import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.loader';
import { SsoConfig } from './sso.config';

const load = (value: unknown) =>
  loadConfig(SsoConfig, { SSO_PROVIDERS: typeof value === 'string' ? value : JSON.stringify(value) });

const problemsOf = (value: unknown): string[] => {
  try {
    load(value);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

describe('SSO_PROVIDERS', () => {
  it('reads providers with their defaults', () => {
    const config = load([
      {
        id: 'okta',
        issuer: 'https://acme.okta.com',
        client_id: 'c',
        tenant_id: 'acme',
        allowed_domains: ['Acme.COM'],
        redirect_uris: [],
      },
    ]);
    expect(config.SSO_PROVIDERS).toEqual([
      expect.objectContaining({
        id: 'okta',
        scopes: 'openid email profile',
        default_role: 'member',
        allowed_domains: ['acme.com'],
      }),
    ]);
    expect(loadConfig(SsoConfig, {}).SSO_PROVIDERS).toEqual([]);
  });

  it('names every problem of every provider at once', () => {
    const [problem] = problemsOf([
      { id: 'Bad Id', issuer: 'ftp://x', tenant_id: 'a', redirect_uris: ['nope'], default_role: 'admin' },
      {
        id: 'dup',
        issuer: 'https://a',
        client_id: 'c',
        tenant_id: 'acme',
        redirect_uris: [],
        scopes: 'email',
      },
      { id: 'dup', issuer: 'https://a', client_id: 'c', tenant_id: 'acme', redirect_uris: [] },
    ]);
    for (const expected of [
      "'Bad Id'.id must match",
      "'Bad Id'.issuer must be an http(s) URL",
      "'Bad Id'.client_id is required",
      "'Bad Id'.tenant_id must be a tenant id",
      "'Bad Id'.default_role must be owner, member or viewer",
      "'Bad Id'.redirect_uris must be an array of http(s) URLs",
      "'dup'.scopes must be a space-separated string including openid",
      "'dup'.id is used twice",
    ])
      expect(problem).toContain(expected);
    expect(problem).toMatch(/^SSO_PROVIDERS \(/);
  });

  it('refuses what is not JSON or not an array', () => {
    expect(problemsOf('{not json')[0]).toContain('must be JSON');
    expect(problemsOf({ id: 'x' })[0]).toContain('must be a JSON array of providers');
  });
});
