import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { COPY_CHUNK } from './metered';

export class UploadAbortedError extends Error {
  constructor() {
    super('the client went away before the upload was complete');
    this.name = 'UploadAbortedError';
  }
}

/**
 * The request body as a stream the store may destroy without destroying the request (so a 413 can still be
 * answered), which fails if the client goes away mid-upload (`pipe` alone would leave it waiting forever).
 */
export function requestBody(req: IncomingMessage): Readable {
  const body = new PassThrough({ highWaterMark: COPY_CHUNK });
  req.pipe(body);
  req.once('close', () => {
    if (!req.complete) body.destroy(new UploadAbortedError());
  });
  body.once('close', () => req.unpipe(body));
  return body;
}
