import { json, type NextFunction, type Request, type Response } from 'express';
import { bodyBudgetProblem } from './body-budget';
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

/**
 * JSON parsing whose failures answer in the SPEC's envelope: 400 MALFORMED_JSON, 413 PAYLOAD_TOO_LARGE, and
 * 400 VALIDATION_ERROR for a body over the shape budget (depth, keys, items, unpaired surrogates).
 */
export function jsonBody(limit: string, streamedPaths: string[] = []) {
  // The exact bytes are kept for signature checks (webhooks sign the raw body, not its parse).
  const parse = json({
    limit,
    type: ['application/json', 'application/*+json'],
    verify: (req, _res, buffer) => {
      (req as RawBodyRequest).rawBody = buffer;
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    // Routes that stream their own body (signed uploads of any type and size) are not parsed here.
    if (streamedPaths.some((prefix) => req.path.startsWith(prefix))) return next();
    parse(req, res, (error?: unknown) => {
      const requestId = requestIdOf(req);
      if (!error) {
        const problem = bodyBudgetProblem(req.body);
        if (!problem) return next();
        return sendError(res, 400, errorEnvelope(400, 'VALIDATION_ERROR', problem, requestId));
      }
      const err = error as BodyParserError;
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
