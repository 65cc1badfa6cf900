import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { ObjectKey } from './object-key';
import type { SignedMethod } from './object-storage';

/** Where Conflux serves the local store's signed URLs, under the API prefix. */
export const SIGNED_OBJECT_ROUTE = 'storage/signed';

export const SIGNED_PARAMS = {
  method: 'X-Conflux-Method',
  expires: 'X-Conflux-Expires',
  actor: 'X-Conflux-Actor',
  signature: 'X-Conflux-Signature',
} as const;

export interface SignedGrant {
  method: SignedMethod;
  key: ObjectKey;
  /** Unix seconds. */
  expires: number;
  actor: string;
}

// A fixed purpose label: the key signs storage URLs and nothing else, and no JWT signature is ever a valid
// URL signature (or the reverse), though both come from JWT_SECRET.
const PURPOSE = 'conflux/storage/signed-url/v1';

/**
 * HMAC-SHA256 over method, tenant, key, expiry and the signer, with a key derived from JWT_SECRET by HKDF.
 * Every API instance derives the same key, so a URL signed by one is served by any other.
 */
export class StorageUrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'conflux', PURPOSE, 32));
  }

  sign(grant: SignedGrant): string {
    return createHmac('sha256', this.key).update(canonical(grant)).digest('base64url');
  }

  /** Constant-time: how much of a guess matches says nothing. */
  verify(grant: SignedGrant, signature: string): boolean {
    const expected = Buffer.from(this.sign(grant));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** `<origin>/api/v1/storage/signed/<tenant>/<bucket>/<path>?X-Conflux-...`. */
  url(origin: string, grant: SignedGrant): string {
    const path = [grant.key.tenantId, ...grant.key.segments].map(encodeURIComponent).join('/');
    const query = new URLSearchParams({
      [SIGNED_PARAMS.method]: grant.method,
      [SIGNED_PARAMS.expires]: String(grant.expires),
      [SIGNED_PARAMS.actor]: grant.actor,
      [SIGNED_PARAMS.signature]: this.sign(grant),
    });
    return `${origin.replace(/\/+$/, '')}/api/v1/${SIGNED_OBJECT_ROUTE}/${path}?${query.toString()}`;
  }
}

/** Line-separated; no field can hold a newline (keys refuse control characters, the rest are generated). */
function canonical(grant: SignedGrant): string {
  return [
    'CONFLUX-STORAGE-V1',
    grant.method,
    grant.key.tenantId,
    grant.key.toString(),
    String(grant.expires),
    grant.actor,
  ].join('\n');
}
