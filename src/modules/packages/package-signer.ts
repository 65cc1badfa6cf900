import { type KeyObject, sign, verify } from 'node:crypto';
import { keyIdOf, type SigningKey } from '../../core/config/signing.config';

/** What a signature covers: the artifact's digest and the name and version it claims. */
export interface Signable {
  name: string;
  version: string;
  sha256: string;
}

export type VerifyFailure = 'untrusted_key' | 'bad_signature';

/**
 * The bytes an Ed25519 signature is made over. Written out here (and in docs/packages.md) so a release pipeline
 * can sign elsewhere (`openssl pkeyutl -sign -rawin`, node:crypto) and import the result.
 */
export function signingPayload(artifact: Signable): Buffer {
  return Buffer.from(`conflux-wpk-signature/1\n${artifact.name}\n${artifact.version}\n${artifact.sha256}\n`);
}

/** Signs with the deployment's key; verifies against it and the WPK_TRUSTED_KEYS. */
export class PackageSigner {
  private readonly trusted: Map<string, KeyObject>;

  constructor(
    private readonly key: SigningKey,
    trustedKeys: KeyObject[],
  ) {
    this.trusted = new Map([[key.keyId, key.publicKey], ...trustedKeys.map((k) => [keyIdOf(k), k] as const)]);
  }

  get keyId(): string {
    return this.key.keyId;
  }

  sign(artifact: Signable): { signature: string; key_id: string } {
    return {
      signature: sign(null, signingPayload(artifact), this.key.privateKey).toString('base64'),
      key_id: this.key.keyId,
    };
  }

  /**
   * The key id the signature verifies with. With `keyId`, only that key is tried (unknown: untrusted_key);
   * without, every trusted key is (none matching: untrusted_key, as no trusted key made it).
   */
  verify(
    artifact: Signable,
    signature: string,
    keyId: string | null,
  ): { keyId: string } | { failure: VerifyFailure } {
    const payload = signingPayload(artifact);
    const bytes = Buffer.from(signature, 'base64');
    if (keyId !== null) {
      const key = this.trusted.get(keyId);
      if (!key) return { failure: 'untrusted_key' };
      return verify(null, payload, key, bytes) ? { keyId } : { failure: 'bad_signature' };
    }
    for (const [id, key] of this.trusted) if (verify(null, payload, key, bytes)) return { keyId: id };
    return { failure: 'untrusted_key' };
  }

  /** The trusted public keys as SPKI PEM, the deployment's own first. */
  trustedKeys(): Array<{ key_id: string; public_key: string; own: boolean }> {
    return [...this.trusted].map(([id, key]) => ({
      key_id: id,
      public_key: key.export({ type: 'spki', format: 'pem' }).toString(),
      own: id === this.key.keyId,
    }));
  }
}
