import { HttpStatus } from '@nestjs/common';
import {
  AppException,
  type ErrorDetails,
  NotFoundAppException,
  ValidationFailedException,
} from '../../core/http/app.exception';

/** Why the sandbox refused a statement before it ran; also the `reason` label of the refusal metric. */
export type RefusalReason =
  | 'syntax'
  | 'empty'
  | 'multiple_statements'
  | 'not_select'
  | 'into'
  | 'locking'
  | 'writable_cte'
  | 'function'
  | 'params';

/** 400 VALIDATION_ERROR: the statement is not one the sandbox runs (`details.reason` says which rule). */
export class QueryRefusedException extends ValidationFailedException {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(HttpStatus.BAD_REQUEST, message, { reason, ...details });
  }
}

/** 400 VALIDATION_ERROR: Postgres could not run the query as written (Postgres's message and position). */
export class QueryFailedException extends ValidationFailedException {
  constructor(message: string, details: ErrorDetails) {
    super(HttpStatus.BAD_REQUEST, message, details);
  }
}

/** 403 INSUFFICIENT_PERMISSIONS: the tenant's role may not read or do that (another schema, a catalog, a write). */
export class QueryPermissionDeniedException extends AppException {
  constructor(message: string, details: ErrorDetails) {
    super('INSUFFICIENT_PERMISSIONS', HttpStatus.FORBIDDEN, message, details);
  }
}

/**
 * 400 QUERY_TIMEOUT: the query ran past DATA_QUERY_TIMEOUT_MS and was stopped. A client error, not a 5xx: the
 * same query would time out again, and a tenant's slow query is not an outage.
 */
export class QueryTimeoutException extends AppException {
  constructor(timeoutMs: number) {
    super(
      'QUERY_TIMEOUT',
      HttpStatus.BAD_REQUEST,
      `The query ran longer than ${timeoutMs} ms and was stopped`,
      { timeout_ms: timeoutMs },
    );
  }
}

/** 503 DB_UNAVAILABLE: no sandbox connection in time (all busy) or the database refused one; retry shortly. */
export class SandboxUnavailableException extends AppException {
  constructor(message: string) {
    super('DB_UNAVAILABLE', HttpStatus.SERVICE_UNAVAILABLE, message, undefined, undefined, 1);
  }
}

/** 404 TENANT_NOT_FOUND: no such tenant (a platform admin's `tenantId`), so no dataset. */
export class DatasetNotFoundException extends NotFoundAppException {
  constructor(tenantId: string) {
    super('tenant', tenantId, 'TENANT_NOT_FOUND');
  }
}
