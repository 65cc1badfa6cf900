import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import type { ErrorDetails } from './app.exception';
import { redactSecrets } from '../redaction/redact';

export interface ErrorEnvelope {
  error_code: string;
  error: string;
  message: string;
  details?: ErrorDetails;
  retry_after?: number;
  request_id: string | undefined;
}

/** The generic code for a status when nothing more specific was thrown. */
export const DEFAULT_CODES: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'AUTHENTICATION_REQUIRED',
  403: 'INSUFFICIENT_PERMISSIONS',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

export function errorEnvelope(
  status: number,
  code: string | undefined,
  message: string,
  requestId: string | undefined,
  details?: ErrorDetails,
  retryAfter?: number,
): ErrorEnvelope {
  return {
    error_code: code ?? DEFAULT_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'ERROR'),
    error: STATUS_CODES[status] ?? 'Error',
    message,
    ...(details ? { details: redactSecrets(details) } : {}),
    ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}),
    request_id: requestId,
  };
}

/** The one place an error response is written, for the exception filter and the raw Express layers alike. */
export function sendError(
  res: Response,
  status: number,
  envelope: ErrorEnvelope,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).json(envelope);
}
