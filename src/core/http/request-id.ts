import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { requestContext } from '../tenancy/request-context';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

declare module 'http' {
  interface IncomingMessage {
    /** The request's id (X-Request-ID), set by assignRequestId. */
    id?: string;
  }
}

export function requestIdOf(req: IncomingMessage): string | undefined {
  return typeof req.id === 'string' ? req.id : undefined;
}

/** Accepts a sane `X-Request-ID` or makes one, and echoes it. Runs first, so even parse errors carry it. */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.header('x-request-id');
  req.id = given && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-ID', req.id);
  next();
}

/**
 * Enters the request's AsyncLocalStorage context. Installed after the body parsers: their callbacks fire
 * from stream events, which would otherwise lose the context.
 */
export function enterRequestContext(req: Request, _res: Response, next: NextFunction): void {
  const xUserId = req.header('x-user-id')?.slice(0, 200);
  requestContext.run({ requestId: requestIdOf(req) ?? randomUUID(), ...(xUserId ? { xUserId } : {}) }, next);
}
