import { HttpException, HttpStatus } from '@nestjs/common';

export type ErrorDetails = Record<string, unknown>;

/**
 * A coded error: the string `code` is what clients branch on (`error_code` in the SPEC's envelope).
 * Each module defines its own subclasses in `<domain>.exceptions.ts`.
 */
export class AppException extends HttpException {
  constructor(
    readonly code: string,
    status: HttpStatus,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
    /** Seconds: sent as `retry_after` in the body and as the Retry-After header (429, in-flight 409). */
    readonly retryAfter?: number,
  ) {
    super(message, status);
  }
}

export class ValidationFailedException extends AppException {
  constructor(
    status: HttpStatus.BAD_REQUEST | HttpStatus.UNPROCESSABLE_ENTITY,
    message: string,
    details: ErrorDetails,
  ) {
    super('VALIDATION_ERROR', status, message, details);
  }
}

export class NotFoundAppException extends AppException {
  constructor(thing: string, id: string, code = `${thing.toUpperCase().replace(/\W+/g, '_')}_NOT_FOUND`) {
    super(code, HttpStatus.NOT_FOUND, `${thing[0].toUpperCase()}${thing.slice(1)} '${id}' not found`);
  }
}

export class ServiceUnavailableAppException extends AppException {
  constructor(code: 'DB_UNAVAILABLE' | 'QUEUE_UNAVAILABLE', message: string) {
    super(code, HttpStatus.SERVICE_UNAVAILABLE, message);
  }
}
