import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { AppException } from './app.exception';
import { errorEnvelope, sendError } from './error-envelope';
import { requestIdOf } from './request-id';

/** Maps every error thrown in an HTTP handler to the SPEC's envelope. A 500 says nothing but the request id. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const requestId = requestIdOf(req);

    if (exception instanceof AppException) {
      const { code, message, details, retryAfter } = exception;
      const envelope = errorEnvelope(exception.getStatus(), code, message, requestId, details, retryAfter);
      const headers = {
        ...exception.headers,
        ...(retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {}),
      };
      return sendError(res, exception.getStatus(), envelope, headers);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return sendError(res, status, errorEnvelope(status, undefined, httpMessage(exception), requestId));
    }
    const database = databaseError(exception);
    if (database)
      return sendError(
        res,
        database.status,
        errorEnvelope(database.status, database.code, database.message, requestId),
      );
    this.logger.error(exception instanceof Error ? exception : String(exception));
    sendError(res, 500, errorEnvelope(500, 'INTERNAL_ERROR', 'Internal server error', requestId));
  }
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message)
    ? message.join('; ')
    : typeof message === 'string'
      ? message
      : exception.message;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  '57P01',
  '57P03',
  '53300', // too many connections (the server's, a role's or a database's limit)
  '08000',
  '08003',
  '08006',
  '3D000',
]);

/**
 * Data exceptions a request's own values cause (a NUL or other character the database cannot hold, text that is
 * not a valid value of the column's type, a number or date out of range): the request's fault, so 400.
 */
const INPUT_ERRORS = new Set([
  '22021',
  '22P05',
  '22P02',
  '22003',
  '22007',
  '22008',
  '22001',
  '22023',
  '22025',
]);

/** Database failures a client can act on; never the SQL or the driver's text. */
function databaseError(exception: unknown): { status: number; code: string; message: string } | undefined {
  const code =
    (exception as { code?: unknown; driverError?: { code?: unknown } }).driverError?.code ??
    (exception as { code?: unknown }).code;
  if (exception instanceof QueryFailedError && code === '23505') {
    return { status: 409, code: 'CONFLICT', message: 'A resource with the same unique value already exists' };
  }
  if (exception instanceof QueryFailedError && code === '23503') {
    // A foreign key the request supplied (an admin's `tenantId`, an id in the body) names nothing.
    return {
      status: 404,
      code: 'NOT_FOUND',
      message: 'The request refers to a resource that does not exist',
    };
  }
  if (exception instanceof QueryFailedError && code === '23502') {
    // A field the request set to null where a value is required (optional DTO fields let null through).
    return { status: 400, code: 'VALIDATION_ERROR', message: 'A required value in the request is null' };
  }
  if (exception instanceof QueryFailedError && typeof code === 'string' && INPUT_ERRORS.has(code)) {
    return {
      status: 400,
      code: 'VALIDATION_ERROR',
      message: 'A value in the request cannot be stored or compared (an invalid character, format or range)',
    };
  }
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) {
    return { status: 503, code: 'DB_UNAVAILABLE', message: 'The database is unreachable; retry shortly' };
  }
  if (
    exception instanceof Error &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(exception.message)
  ) {
    return { status: 503, code: 'DB_UNAVAILABLE', message: 'The database is unreachable; retry shortly' };
  }
  return undefined;
}
