import { createHash, createHmac, hkdfSync, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../core/config/app.config';
import { DataConfig } from '../../core/config/data.config';
import { gcmOpen, gcmSeal, keyFromText } from '../../core/secrets/aes-gcm';

const FORMAT = 'v1';
const SCRAM_ITERATIONS = 4096;

/**
 * The development key: derived from a fixed label, so the API, the workers and the tests agree on it without
 * configuration. It protects nothing (it is in the source), which is why production refuses to start without
 * DATA_ENCRYPTION_KEY. Not derived from JWT_SECRET: workers decrypt too, and they do not read JWT_SECRET.
 */
function developmentKey(): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      'conflux development data key',
      'conflux',
      'conflux:data-sandbox:role-credentials:v1',
      32,
    ),
  );
}

/**
 * Sandbox role passwords: generated here, sent to Postgres only as SCRAM verifiers, and stored encrypted with
 * AES-256-GCM (random 96-bit IV; the tenant and role names as associated data, so a stored secret cannot be moved
 * to another tenant's row).
 */
@Injectable()
export class SandboxSecrets {
  private readonly key: Buffer;
  /** Names the key a secret was sealed with, so a changed key is noticed without trying to decrypt. */
  readonly keyId: string;

  constructor(config: DataConfig, app: AppConfig) {
    if (config.DATA_ENCRYPTION_KEY) {
      this.key = keyFromText(config.DATA_ENCRYPTION_KEY);
    } else if (app.isProduction) {
      throw new Error(
        'DATA_ENCRYPTION_KEY (unset): is required when NODE_ENV=production (32 random bytes: openssl rand -base64 32)',
      );
    } else {
      this.key = developmentKey();
      new Logger('DataSandbox').log(
        'DATA_ENCRYPTION_KEY is unset: sandbox role passwords are sealed with the development key',
      );
    }
    this.keyId = createHash('sha256').update(this.key).digest('hex').slice(0, 16);
  }

  newPassword(): string {
    return randomBytes(32).toString('base64url');
  }

  seal(plaintext: string, context: string): string {
    return [FORMAT, ...gcmSeal(this.key, plaintext, context)].join('.');
  }

  /** The plaintext, or undefined when the secret was sealed with another key, for another context, or altered. */
  open(secret: string, context: string): string | undefined {
    const [format, iv, tag, sealed] = secret.split('.');
    if (format !== FORMAT) return undefined;
    return gcmOpen(this.key, { iv, tag, sealed }, context);
  }
}

/** What a sealed password is bound to: its tenant and role (AES-GCM associated data). */
export function credentialContext(tenantId: string, role: string): string {
  return `conflux:data-sandbox:${tenantId}:${role}`;
}

/**
 * The SCRAM-SHA-256 verifier Postgres stores for a password (RFC 5802/7677, Postgres's text form). Sending the
 * verifier instead of the password keeps the password out of Postgres's statement logs; `ALTER ROLE ... PASSWORD`
 * stores a verifier as given. The password must be plain ASCII (SASLprep is then the identity): ours are base64url.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
