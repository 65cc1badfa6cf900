import { json, type NextFunction, type Request, type Response } from 'express';
import { errorEnvelope, sendError } from './error-envelope';
import { requestIdOf } from './request-id';

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** JSON parsing whose failures answer in the SPEC's envelope: 400 MALFORMED_JSON, 413 PAYLOAD_TOO_LARGE. */
export function jsonBody(limit: string) {
  // The exact bytes are kept for signature checks (webhooks sign the raw body, not its parse).
  const parse = json({
    limit,
    type: ['application/json', 'application/*+json'],
    verify: (req, _res, buffer) => {
      (req as RawBodyRequest).rawBody = buffer;
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const err = error as BodyParserError;
      const requestId = requestIdOf(req);
      if (err.type === 'entity.too.large') {
        return sendError(
          res,
          413,
          errorEnvelope(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limit}`, requestId),
        );
      }
      if (err.type === 'entity.parse.failed') {
        return sendError(
          res,
          400,
          errorEnvelope(400, 'MALFORMED_JSON', `Malformed JSON: ${err.message}`, requestId),
        );
      }
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
      sendError(res, status, errorEnvelope(status, undefined, err.message, requestId));
    });
  };
}
