import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AppConfig } from '../../core/config/app.config';
import { loadConfig } from '../../core/config/config.loader';
import { DataConfig } from '../../core/config/data.config';
import { SandboxSecrets, scramVerifier } from './sandbox-secrets';

const secrets = (env: Record<string, string> = {}) =>
  new SandboxSecrets(loadConfig(DataConfig, env), loadConfig(AppConfig, env));

describe('sandbox secrets', () => {
  it('seals and opens a password bound to its tenant and role', () => {
    const s = secrets();
    const sealed = s.seal('p4ssw0rd', 'acme:role');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('p4ssw0rd');
    expect(s.open(sealed, 'acme:role')).toBe('p4ssw0rd');
    expect(s.seal('p4ssw0rd', 'acme:role')).not.toBe(sealed);
    expect(s.open(sealed, 'globex:role')).toBeUndefined();
    const [format, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(s.open([format, iv, tag, flipped.toString('base64url')].join('.'), 'acme:role')).toBeUndefined();
    expect(s.open('garbage', 'acme:role')).toBeUndefined();
  });

  it('opens nothing sealed under another key, and names keys by a stable id', () => {
    const key = randomBytes(32);
    const a = secrets({ DATA_ENCRYPTION_KEY: key.toString('base64') });
    const sameAsHex = secrets({ DATA_ENCRYPTION_KEY: key.toString('hex') });
    const other = secrets({ DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    const sealed = a.seal('x', 'c');
    expect(sameAsHex.open(sealed, 'c')).toBe('x');
    expect(sameAsHex.keyId).toBe(a.keyId);
    expect(other.open(sealed, 'c')).toBeUndefined();
    expect(other.keyId).not.toBe(a.keyId);
    expect(secrets().keyId).toBe(secrets().keyId);
  });

  it('refuses to start in production without DATA_ENCRYPTION_KEY', () => {
    expect(() => secrets({ NODE_ENV: 'production' })).toThrow(/DATA_ENCRYPTION_KEY \(unset\): is required/);
    expect(() =>
      secrets({ NODE_ENV: 'production', DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
    ).not.toThrow();
    expect(() => loadConfig(DataConfig, { DATA_ENCRYPTION_KEY: 'short' })).toThrow(/DATA_ENCRYPTION_KEY/);
  });

  it('makes SCRAM-SHA-256 verifiers that answer RFC 7677’s exchange', () => {
    // RFC 7677 section 3: user "user", password "pencil".
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const verifier = scramVerifier('pencil', salt);
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(match?.[1]).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    const storedKey = Buffer.from(match?.[2] ?? '', 'base64');
    const serverKey = Buffer.from(match?.[3] ?? '', 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe(
      '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    );
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
  });
});
