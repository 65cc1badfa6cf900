import { describe, expect, it } from '@jest/globals';
import { isSecretName, redactSecrets } from './redact';

describe('isSecretName', () => {
  it.each([
    'authorization',
    'Proxy-Authorization',
    'cookie',
    'set-cookie',
    'x-api-key',
    'X-Api-Token',
    'api_key',
    'apiKey',
    'client_secret',
    'db_password',
    'access_token',
    'x-conflux-signature',
    'aws.credentials',
    'private_key',
  ])('%s is secret', (name) => expect(isSecretName(name)).toBe(true));

  it.each([
    'tokens',
    'prompt_tokens',
    'key_id',
    'keyboard',
    'secretary',
    'user',
    'content-type',
    'x-github-event',
  ])('%s is not', (name) => expect(isSecretName(name)).toBe(false));
});

describe('redactSecrets', () => {
  it('replaces secret-named values at any depth, in objects and arrays', () => {
    expect(
      redactSecrets({
        user: 'ada',
        token: 'abc',
        nested: { headers: { Authorization: 'Bearer x', accept: '*/*' } },
        list: [{ password: 1 }, 'plain'],
      }),
    ).toEqual({
      user: 'ada',
      token: '[redacted]',
      nested: { headers: { Authorization: '[redacted]', accept: '*/*' } },
      list: [{ password: '[redacted]' }, 'plain'],
    });
  });

  it('never changes its argument, and shares what holds no secret', () => {
    const clean = { a: { b: [1, 2] } };
    const input = { clean, secret: 's', deep: { api_key: 'k' } };
    const out = redactSecrets(input);
    expect(input).toEqual({ clean, secret: 's', deep: { api_key: 'k' } });
    expect(out.clean).toBe(clean);
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('leaves scalars, dates and buffers as they are', () => {
    const date = new Date(0);
    expect(redactSecrets('token')).toBe('token');
    expect(redactSecrets(null)).toBeNull();
    expect(redactSecrets({ at: date }).at).toBe(date);
  });
});
