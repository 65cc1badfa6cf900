import { createHash, hkdfSync } from 'node:crypto';
import { AppConfig } from '../config/app.config';
import { type Env, loadConfig } from '../config/config.loader';
import { SecretsConfig } from '../config/secrets.config';
import { gcmOpen, gcmSeal, keyFromText } from './aes-gcm';

const PREFIX = 'enc:v1';

/** The AES-GCM associated data of a workflow's webhook secret: a sealed secret cannot be moved to another row. */
export const webhookSecretContext = (workflowId: string): string => `conflux:webhook-secret:${workflowId}`;

/**
 * The development key: derived from a fixed label, so every process and the tests agree on it without
 * configuration. It protects nothing (it is in the source), which is why production refuses to start without
 * SECRETS_KEY.
 */
function developmentKey(): Buffer {
  return Buffer.from(
    hkdfSync('sha256', 'conflux development secrets key', 'conflux', 'conflux:secrets:v1', 32),
  );
}

export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 12);

/**
 * Secrets at rest: `enc:v1:<key id>:<iv>:<tag>:<ciphertext>` (AES-256-GCM, random 96-bit IV, a context string
 * as associated data). The key id says which key of the ring opens a value, so a rotated key keeps reading what
 * the old one sealed until `npm run secrets:rotate` re-seals it.
 */
export class SecretCipher {
  private readonly keys = new Map<string, Buffer>();
  /** The id of the key new values are sealed with. */
  readonly keyId: string;

  constructor(current: Buffer, previous: Buffer[] = []) {
    if (current.length !== 32) throw new Error('a secrets key is 32 bytes');
    this.keyId = keyIdOf(current);
    this.keys.set(this.keyId, current);
    for (const key of previous) if (!this.keys.has(keyIdOf(key))) this.keys.set(keyIdOf(key), key);
  }

  static fromConfig(config: SecretsConfig, app: AppConfig): SecretCipher {
    if (!config.SECRETS_KEY && app.isProduction) {
      throw new Error(
        'SECRETS_KEY (unset): is required when NODE_ENV=production (32 random bytes: openssl rand -base64 32)',
      );
    }
    const current = config.SECRETS_KEY ? keyFromText(config.SECRETS_KEY) : developmentKey();
    const previous = config.SECRETS_PREVIOUS_KEYS.map(keyFromText);
    // Rotating away from the development key: what it sealed stays readable.
    if (config.SECRETS_KEY && !app.isProduction) previous.push(developmentKey());
    return new SecretCipher(current, previous);
  }

  isSealed(value: string): boolean {
    return value.startsWith(`${PREFIX}:`);
  }

  /** True when `value` is sealed under a key other than the current one (what rotation re-seals). */
  isStale(value: string): boolean {
    return !this.isSealed(value) || value.split(':')[2] !== this.keyId;
  }

  seal(plaintext: string, context: string): string {
    return [PREFIX, this.keyId, ...gcmSeal(this.keys.get(this.keyId) as Buffer, plaintext, context)].join(
      ':',
    );
  }

  /** The plaintext, or undefined when no key of the ring opens it (unknown key, other context, altered). */
  open(value: string, context: string): string | undefined {
    const [enc, version, keyId, iv, tag, sealed] = value.split(':');
    const key = this.keys.get(keyId);
    if (`${enc}:${version}` !== PREFIX || !key) return undefined;
    return gcmOpen(key, { iv, tag, sealed }, context);
  }
}

/** For code outside the Nest container (migrations, `npm run secrets:rotate`): the cipher the processes build. */
export function secretCipherFromEnv(env: Env): SecretCipher {
  return SecretCipher.fromConfig(loadConfig(SecretsConfig, env), loadConfig(AppConfig, env));
}
