import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import { requestIdOf } from '../http/request-id';
import { redactUrl, tenantOf } from './logger';

/** Probes polled every few seconds: not worth a line each. */
const QUIET = new Set(['/health', '/metrics']);

/**
 * One line per answered request (`request completed`; `request aborted` when the client left first; `request
 * errored` at error level for a 5xx) with its id, tenant, method, redacted URL, status and `responseTime` in ms.
 * Written once, at the end, from plain fields: no child logger per request, nothing formatted before the answer.
 */
export function requestLogging(logger: Logger) {
  // Every field of the line is built here from values safe to log (the URL redacted by redactUrl): the generic
  // redaction paths, a third of a line's cost, have nothing to find in it.
  const lines = logger.child({}, { redact: [] });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (QUIET.has(req.url)) return next();
    const started = Date.now();
    const done = () => {
      res.removeListener('close', done);
      res.removeListener('finish', done);
      const line = {
        request_id: requestIdOf(req),
        ...tenantOf(req as { user?: Principal }),
        req: { method: req.method, url: redactUrl(req.originalUrl) },
        res: { status: res.statusCode },
        responseTime: Date.now() - started,
      };
      if (res.statusCode >= 500) lines.error(line, 'request errored');
      else lines.info(line, res.writableFinished ? 'request completed' : 'request aborted');
    };
    res.on('close', done);
    res.on('finish', done);
    next();
  };
}
