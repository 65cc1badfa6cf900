import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from './principal';

/**
 * API keys look like `cfx_<8 lookup chars>_<43 secret chars>`. The lookup prefix (`cfx_<8>`) is stored in
 * clear to find the row; the whole key only as its SHA-256, compared in constant time.
 */
const FORMAT = /^(cfx_[A-Za-z0-9]{8})_[A-Za-z0-9_-]{43}$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const lookup = Array.from(randomBytes(8), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  const prefix = `cfx_${lookup}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The lookup prefix of a well-formed key, or undefined. */
export function apiKeyPrefix(key: string): string | undefined {
  return FORMAT.exec(key)?.[1];
}

/** `hash` is the presented key's `hashApiKey`; compared in constant time. */
export function apiKeyHashMatches(hash: string, storedHash: string): boolean {
  const actual = Buffer.from(hash, 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Implemented by the api-keys module; the auth core asks it, without depending on the module. */
export abstract class ApiKeyVerifier {
  /** The principal of a live key, or undefined for an unknown, malformed or revoked one. */
  abstract verify(key: string): Promise<Principal | undefined>;
}
