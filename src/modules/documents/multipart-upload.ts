import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import busboy from 'busboy';
import { requestBody } from '../storage/request-body';
import { InvalidUploadException } from './documents.exceptions';
import { type DetectedType, SNIFF_BYTES, sniff } from './extraction/sniff';

/** `metadata` as JSON text: at most this long. */
const MAX_METADATA_BYTES = 64 * 1024;

/**
 * A pass-through that holds the first SNIFF_BYTES (or the whole file, if shorter), decides the type, and then
 * lets everything flow. `onType` may throw to refuse the file before a byte moves on.
 */
export function sniffing(onType: (type: DetectedType) => void): Transform {
  const held: Buffer[] = [];
  let size = 0;
  let decided = false;
  const decide = (stream: Transform, complete: boolean) => {
    decided = true;
    const head = Buffer.concat(held);
    onType(sniff(head.subarray(0, SNIFF_BYTES), complete));
    stream.push(head);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (decided) return done(null, chunk);
      held.push(chunk);
      size += chunk.length;
      if (size < SNIFF_BYTES) return done();
      try {
        decide(this, false);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        if (!decided) decide(this, true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/** What a multipart upload carried: the store's answer for the file, its name, and the raw `metadata` text. */
export interface MultipartResult<S> {
  stored: S;
  filename: string;
  metadata?: string;
}

/**
 * Reads a multipart/form-data request: exactly one `file` part, streamed to `store` as it arrives (never
 * buffered whole), and an optional `metadata` field. Any other part is refused, and a refusal or a failed store
 * destroys the file stream (so the store keeps nothing) and stops reading the request.
 */
export function readMultipart<S>(
  req: IncomingMessage,
  store: (file: { filename: string; stream: Readable }) => Promise<S>,
): Promise<MultipartResult<S>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 1, fieldSize: MAX_METADATA_BYTES },
      });
    } catch (error) {
      reject(
        new InvalidUploadException('file', `not a multipart/form-data body: ${(error as Error).message}`),
      );
      return;
    }
    const body = requestBody(req);
    let file: Readable | undefined;
    let storing: Promise<{ stored: S; filename: string }> | undefined;
    let metadata: string | undefined;
    let failed = false;
    const fail = (cause: unknown) => {
      if (failed) return;
      failed = true;
      const error = cause instanceof Error ? cause : new Error(String(cause));
      body.unpipe(parser);
      // Without an error: the store's own promise (already settled or settling) is how the file's failure shows.
      file?.destroy();
      reject(error);
    };
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        return fail(
          new InvalidUploadException(name, "unexpected file part: send the file as the part named 'file'"),
        );
      }
      file = stream;
      // Its errors reach the store through the pipe; this keeps them from being unhandled as well.
      stream.on('error', () => undefined);
      const filename = info.filename?.trim() || 'upload';
      storing = store({ filename, stream }).then((stored) => ({ stored, filename }));
      storing.catch(fail);
    });
    parser.on('field', (name, value, info) => {
      if (name !== 'metadata')
        return fail(
          new InvalidUploadException(name, "unexpected field: only 'file' and 'metadata' are read"),
        );
      if (info.valueTruncated)
        return fail(new InvalidUploadException('metadata', `longer than ${MAX_METADATA_BYTES} bytes`));
      metadata = value;
    });
    parser.on('filesLimit', () => fail(new InvalidUploadException('file', 'exactly one file per upload')));
    parser.on('fieldsLimit', () =>
      fail(new InvalidUploadException('metadata', 'one metadata field at most')),
    );
    parser.on('error', (error: Error) =>
      fail(new InvalidUploadException('file', `malformed multipart body: ${error.message}`)),
    );
    body.on('error', fail);
    parser.on('close', () => {
      if (failed) return;
      if (!storing) return fail(new InvalidUploadException('file', "no part named 'file'"));
      storing.then(({ stored, filename }) => resolve({ stored, filename, metadata }), fail);
    });
    body.pipe(parser);
  });
}
