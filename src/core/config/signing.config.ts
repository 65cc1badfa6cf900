import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IsArray, IsOptional, IsString, registerDecorator, type ValidationOptions } from 'class-validator';
import { EnvList } from './config.loader';

/** Where a development deployment keeps the signing key it generated on first start. */
export const DEV_SIGNING_KEY_FILE = '.data/signing-key.pem';

/** Package signing: the deployment's Ed25519 key and the public keys of other signers it trusts. */
export class SigningConfig {
  /**
   * The Ed25519 private key that signs packages: PKCS#8 PEM (`\n` escapes allowed) or its DER in base64. Required
   * in production (or `SIGNING_KEY_FILE`); in development one is generated into `.data/signing-key.pem` on first
   * start and its key id logged.
   */
  @IsOptional()
  @IsKey('private')
  SIGNING_KEY?: string;

  /** A file holding the Ed25519 private key (PEM), read when `SIGNING_KEY` is unset. */
  @IsOptional()
  @IsString()
  @IsKey('private', { message: 'must name a readable file holding an Ed25519 private key (PEM)' }, true)
  SIGNING_KEY_FILE?: string;

  /**
   * Public keys whose signatures `POST /wpk/deploy` also accepts, comma-separated: SPKI PEM, its DER in base64,
   * or a raw 32-byte Ed25519 key in base64. The deployment's own key is always trusted.
   */
  @IsArray()
  @EnvList()
  @IsKey('public', { each: true })
  WPK_TRUSTED_KEYS: string[] = [];

  /** Whether a key is configured (production requires one). */
  get configured(): boolean {
    return this.SIGNING_KEY !== undefined || this.SIGNING_KEY_FILE !== undefined;
  }
}

/** The deployment's signing key, ready to use. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key's fingerprint (see keyIdOf). */
  keyId: string;
  /** Where it came from; `generated` when this call created the development key file. */
  source: 'SIGNING_KEY' | 'SIGNING_KEY_FILE' | 'development' | 'generated';
}

/**
 * The configured signing key; unset in a development or test deployment, the one in `.data/signing-key.pem`,
 * generated there on first use (atomically, so processes starting together agree on one key). Exported on its
 * own so other concerns (e.g. secrets at rest) can derive from the same key.
 */
export function loadSigningKey(config: SigningConfig, devFile = DEV_SIGNING_KEY_FILE): SigningKey {
  if (config.SIGNING_KEY !== undefined) return withIds(parsePrivateKey(config.SIGNING_KEY), 'SIGNING_KEY');
  if (config.SIGNING_KEY_FILE !== undefined)
    return withIds(parsePrivateKey(readFileSync(config.SIGNING_KEY_FILE, 'utf8')), 'SIGNING_KEY_FILE');
  if (existsSync(devFile)) return withIds(parsePrivateKey(readFileSync(devFile, 'utf8')), 'development');
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(path.dirname(devFile), { recursive: true });
  const temp = `${devFile}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  try {
    linkSync(temp, devFile);
  } catch (error) {
    // Another process created it first: use theirs, so every process of this deployment signs alike.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return withIds(parsePrivateKey(readFileSync(devFile, 'utf8')), 'development');
  } finally {
    rmSync(temp, { force: true });
  }
  return withIds(privateKey, 'generated');
}

/** `ed25519:` and the first 32 hex digits of the SHA-256 of the public key's SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}

/** An Ed25519 private key from PEM or base64 PKCS#8 DER; throws on anything else. */
export function parsePrivateKey(text: string): KeyObject {
  const pem = unescape(text);
  const key = pem.includes('-----BEGIN')
    ? createPrivateKey(pem)
    : createPrivateKey({ key: Buffer.from(pem, 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

/** An Ed25519 public key from SPKI PEM, base64 SPKI DER or a base64 raw 32-byte key; throws on anything else. */
export function parsePublicKey(text: string): KeyObject {
  const pem = unescape(text);
  let key: KeyObject;
  if (pem.includes('-----BEGIN')) key = createPublicKey(pem);
  else {
    const bytes = Buffer.from(pem, 'base64');
    key =
      bytes.length === 32
        ? createPublicKey({
            key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
            format: 'jwk',
          })
        : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

function withIds(privateKey: KeyObject, source: SigningKey['source']): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), source };
}

/** Environment files often carry a PEM on one line with `\n` escapes. */
const unescape = (text: string) => text.replace(/\\n/g, '\n').trim();

/** The value parses as an Ed25519 key of that kind (or, with `file`, names a file that holds one). */
function IsKey(kind: 'private' | 'public', options?: ValidationOptions, file = false) {
  const parse = kind === 'private' ? parsePrivateKey : parsePublicKey;
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: `isEd25519${kind}Key`,
      target: object.constructor,
      propertyName,
      options: {
        message: `must be an Ed25519 ${kind} key (${kind === 'private' ? 'PKCS#8' : 'SPKI'} PEM or base64)`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            parse(file ? readFileSync(value, 'utf8') : value);
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}
