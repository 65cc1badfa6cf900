import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { ObjectTooLargeError } from './object-storage';

export const COPY_CHUNK = 256 * 1024;

/** A pass-through that hashes and counts what flows by, and fails once it passes `maxBytes`. */
export function metered(maxBytes?: number): { stream: Transform; size(): number; sha256(): string } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    highWaterMark: COPY_CHUNK,
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) return done(new ObjectTooLargeError(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, size: () => size, sha256: () => hash.digest('hex') };
}
