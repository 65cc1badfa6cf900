import { describe, expect, it } from '@jest/globals';
import { ObjectKey } from './object-key';
import { type SignedGrant, StorageUrlSigner } from './url-signer';

const secret = 'a-jwt-secret-of-at-least-32-characters!!';
const grant: SignedGrant = {
  method: 'GET',
  key: ObjectKey.of('acme', 'docs/a b.txt'),
  expires: 1_900_000_000,
  actor: 'api_key:k',
};

describe('StorageUrlSigner', () => {
  it('verifies its own signatures and nothing altered', () => {
    const signer = new StorageUrlSigner(secret);
    const signature = signer.sign(grant);
    expect(signer.verify(grant, signature)).toBe(true);
    for (const changed of [
      { ...grant, method: 'PUT' as const },
      { ...grant, key: ObjectKey.of('globex', 'docs/a b.txt') },
      { ...grant, key: ObjectKey.of('acme', 'docs/a b.txt2') },
      { ...grant, expires: grant.expires + 1 },
      { ...grant, actor: 'admin' },
    ]) {
      expect(signer.verify(changed, signature)).toBe(false);
    }
    expect(signer.verify(grant, signature.slice(0, -1))).toBe(false);
    expect(signer.verify(grant, '')).toBe(false);
    expect(new StorageUrlSigner(`${secret}?`).verify(grant, signature)).toBe(false);
  });

  it('derives a key of its own: a storage signature is not an HMAC with JWT_SECRET itself', async () => {
    const { createHmac } = await import('node:crypto');
    const signature = new StorageUrlSigner(secret).sign(grant);
    expect(signature).not.toBe(createHmac('sha256', secret).update('anything').digest('base64url'));
    expect(signature).toMatch(/^[\w-]{43}$/);
  });

  it('puts the tenant, the encoded key and the grant in the URL', () => {
    const url = new URL(new StorageUrlSigner(secret).url('http://localhost:3000/', grant));
    expect(url.pathname).toBe('/api/v1/storage/signed/acme/docs/a%20b.txt');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'X-Conflux-Method': 'GET',
      'X-Conflux-Expires': '1900000000',
      'X-Conflux-Actor': 'api_key:k',
    });
  });
});
