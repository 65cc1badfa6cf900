import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { secretCipherFromEnv, SecretCipher } from './secret-cipher';

describe('SecretCipher', () => {
  it('seals with a key id and opens only in the same context, unaltered', () => {
    const cipher = new SecretCipher(randomBytes(32));
    const sealed = cipher.seal('whsec_abc', 'ctx:1');
    expect(sealed).toMatch(new RegExp(`^enc:v1:${cipher.keyId}:[\\w-]+:[\\w-]+:[\\w-]+$`));
    expect(sealed).not.toContain('whsec_abc');
    expect(cipher.open(sealed, 'ctx:1')).toBe('whsec_abc');
    expect(cipher.seal('whsec_abc', 'ctx:1')).not.toBe(sealed);
    expect(cipher.open(sealed, 'ctx:2')).toBeUndefined();
    const parts = sealed.split(':');
    const body = Buffer.from(parts[5], 'base64url');
    body[0] ^= 1;
    expect(
      cipher.open([...parts.slice(0, 5), body.toString('base64url')].join(':'), 'ctx:1'),
    ).toBeUndefined();
    expect(cipher.open('whsec_abc', 'ctx:1')).toBeUndefined();
  });

  it('reads what a previous key sealed and calls it stale', () => {
    const oldKey = randomBytes(32);
    const sealed = new SecretCipher(oldKey).seal('s', 'c');
    const ring = new SecretCipher(randomBytes(32), [randomBytes(32), oldKey]);
    expect(ring.open(sealed, 'c')).toBe('s');
    expect(ring.isStale(sealed)).toBe(true);
    expect(ring.isStale(ring.seal('s', 'c'))).toBe(false);
    expect(ring.isStale('plain')).toBe(true);
    expect(new SecretCipher(randomBytes(32)).open(sealed, 'c')).toBeUndefined();
  });

  it('takes hex or base64 keys, and refuses production without SECRETS_KEY', () => {
    const key = randomBytes(32);
    const hex = secretCipherFromEnv({ SECRETS_KEY: key.toString('hex') });
    const b64 = secretCipherFromEnv({ SECRETS_KEY: key.toString('base64') });
    expect(hex.keyId).toBe(b64.keyId);
    expect(b64.open(hex.seal('x', 'c'), 'c')).toBe('x');
    expect(() => secretCipherFromEnv({ NODE_ENV: 'production' })).toThrow(
      /SECRETS_KEY \(unset\): is required/,
    );
    expect(() => secretCipherFromEnv({ SECRETS_KEY: 'short' })).toThrow(/SECRETS_KEY/);
    expect(secretCipherFromEnv({}).keyId).toBe(secretCipherFromEnv({}).keyId);
  });
});
