import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A 32-byte key written as 64 hex digits or as base64. */
export function keyFromText(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}

/** AES-256-GCM with a random 96-bit IV and `context` as associated data: `[iv, tag, ciphertext]`, base64url. */
export function gcmSeal(key: Buffer, plaintext: string, context: string): [string, string, string] {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const [a, b, c] = [iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url'));
  return [a, b, c];
}

/** The plaintext, or undefined when the key, the context or any part is wrong (GCM authenticates all of them). */
export function gcmOpen(
  key: Buffer,
  parts: { iv?: string; tag?: string; sealed?: string },
  context: string,
): string | undefined {
  if (!parts.iv || !parts.tag || parts.sealed === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts.iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(parts.tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(parts.sealed, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}
