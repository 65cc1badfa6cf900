import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.loader';
import { loadAllConfig } from './config.module';
import { keyIdOf, loadSigningKey, SigningConfig } from './signing.config';

const dir = mkdtempSync(path.join(tmpdir(), 'conflux-signing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pair = () => generateKeyPairSync('ed25519');
const problemsOf = (env: Record<string, string>): string => {
  try {
    loadAllConfig({ DATABASE_URL: 'postgres://u@localhost/db', REDIS_URL: 'redis://localhost:6379', ...env });
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
};

describe('signing configuration', () => {
  it('is required in production, and names a key that is not an Ed25519 key', () => {
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).toContain(
      'SIGNING_KEY (unset): is required when NODE_ENV=production',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const message = problemsOf({
      SIGNING_KEY: rsa.toString(),
      WPK_TRUSTED_KEYS: 'bm90IGEga2V5',
      SIGNING_KEY_FILE: path.join(dir, 'none'),
    });
    expect(message).toContain('SIGNING_KEY (');
    expect(message).toContain('WPK_TRUSTED_KEYS (');
    expect(message).toContain('SIGNING_KEY_FILE (');
  });

  it('reads PEM (with \\n escapes), base64 DER, a key file, and trusted keys in every accepted form', () => {
    const { privateKey, publicKey } = pair();
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const file = path.join(dir, 'key.pem');
    writeFileSync(file, pem);
    const id = keyIdOf(publicKey);
    for (const env of [
      { SIGNING_KEY: pem.replace(/\n/g, '\\n') },
      { SIGNING_KEY: der },
      { SIGNING_KEY_FILE: file },
    ]) {
      expect(loadSigningKey(loadConfig(SigningConfig, env)).keyId).toBe(id);
    }
    const other = pair().publicKey;
    const forms = [
      other.export({ type: 'spki', format: 'pem' }).toString(),
      other.export({ type: 'spki', format: 'der' }).toString('base64'),
      Buffer.from(other.export({ format: 'jwk' }).x as string, 'base64url').toString('base64'),
    ];
    const config = loadConfig(SigningConfig, { WPK_TRUSTED_KEYS: forms.join(',') });
    expect(config.WPK_TRUSTED_KEYS).toHaveLength(3);
  });

  it('generates one development key on first use and keeps it', () => {
    const file = path.join(dir, 'dev', 'signing-key.pem');
    const config = loadConfig(SigningConfig, {});
    const first = loadSigningKey(config, file);
    expect(first.source).toBe('generated');
    const second = loadSigningKey(config, file);
    expect(second.source).toBe('development');
    expect(second.keyId).toBe(first.keyId);
    const signature = sign(null, Buffer.from('x'), first.privateKey);
    expect(verify(null, Buffer.from('x'), second.publicKey, signature)).toBe(true);
  });
});
