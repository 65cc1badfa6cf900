import { AppException } from '../../core/http/app.exception';
import {
  QueryFailedException,
  QueryPermissionDeniedException,
  QueryRefusedException,
  QueryTimeoutException,
  SandboxUnavailableException,
} from './data.exceptions';
import type { QueryOutcome } from './data.metrics';

/** The reason given to an AbortSignal when the HTTP client went away or the run was cancelled. */
export class QueryAbortedError extends Error {}

interface PgError {
  code?: unknown;
  message?: string;
  position?: string;
  hint?: string;
}

/** SQLSTATE classes of errors in what the query asks (Postgres's message is the answer). */
const QUERY_CLASSES = new Set(['0A', '21', '22', '2F', '38', '39', '42', '44', '54', 'P0']);

/**
 * A Postgres error of a sandbox query as the envelope's coded exception: the query's own mistakes 400 with
 * Postgres's message, position and hint; missing rights 403; the time limit QUERY_TIMEOUT; the database's
 * trouble 503. Anything else stays an unexpected error (500, which says nothing of the query).
 */
export function mapQueryError(error: unknown, timeoutMs: number): Error {
  if (error instanceof AppException || error instanceof QueryAbortedError) return error;
  const e = (error ?? {}) as PgError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = e.message ?? 'query failed';
  if (!code) {
    if (/Connection terminated|ECONNREFUSED|ECONNRESET|timeout exceeded/i.test(message))
      return new SandboxUnavailableException('The sandbox connection was lost; retry shortly');
    return error instanceof Error ? error : new Error(message);
  }
  const details = {
    sqlstate: code,
    ...(e.position ? { position: Number(e.position) } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
  };
  if (code === '57014') return new QueryTimeoutException(timeoutMs);
  if (code === '42501' || code === '25006') return new QueryPermissionDeniedException(message, details);
  if (QUERY_CLASSES.has(code.slice(0, 2)) || code === '53400' || code === '53200')
    return new QueryFailedException(message, details);
  if (['08', '40', '53', '57'].includes(code.slice(0, 2)))
    return new SandboxUnavailableException('The database could not run the query now; retry shortly');
  return error instanceof Error ? error : new Error(message);
}

export function outcomeOf(error: Error): QueryOutcome {
  if (error instanceof QueryRefusedException) return 'refused';
  if (error instanceof QueryTimeoutException) return 'timeout';
  if (error instanceof QueryPermissionDeniedException) return 'denied';
  if (error instanceof SandboxUnavailableException) return 'unavailable';
  if (error instanceof QueryAbortedError) return 'aborted';
  if (error instanceof AppException && error.getStatus() < 500) return 'invalid';
  return 'error';
}
