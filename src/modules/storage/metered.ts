import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import { ObjectTooLargeError } from './object-storage';

export const COPY_CHUNK = 256 * 1024;

/**
 * Streamed bytes live in Buffers outside V8's heap, and a dead Buffer's memory comes back only when the young
 * generation holding its small JS object is collected. A busy API's young generation is large and fills slowly
 * (a 256 KB chunk adds a few hundred heap bytes), so V8 waited for its 64 MB external-memory limit: a 200 MB
 * upload grew the API by 54 MB. Where the process exposes `gc` (API_NODE_FLAGS pass `--expose-gc`), every 16 MB
 * streamed in or out asks for a young-generation collection off the current task: +13-19 MB instead.
 */
const SCAVENGE_EVERY = 16 * 1024 * 1024;
const gc = (globalThis as { gc?: (options: { type: 'minor'; execution: 'async' }) => void }).gc;
let streamedSinceScavenge = 0;

function streamed(bytes: number): void {
  if (!gc) return;
  streamedSinceScavenge += bytes;
  if (streamedSinceScavenge < SCAVENGE_EVERY) return;
  streamedSinceScavenge = 0;
  gc({ type: 'minor', execution: 'async' });
}

/** `source` as it is, counted towards the next young-generation collection (a download's chunks). */
export function scavenging(source: Readable): Readable {
  const out = new Transform({
    highWaterMark: COPY_CHUNK,
    transform(chunk: Buffer, _encoding, done) {
      streamed(chunk.length);
      done(null, chunk);
    },
  });
  return pipeline(source, out, () => undefined);
}

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
      streamed(chunk.length);
      done(null, chunk);
    },
  });
  return { stream, size: () => size, sha256: () => hash.digest('hex') };
}
