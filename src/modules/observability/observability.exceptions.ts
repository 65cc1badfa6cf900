import { HttpStatus } from '@nestjs/common';
import { AppException, type ErrorDetails, ValidationFailedException } from '../../core/http/app.exception';

/** 400 VALIDATION_ERROR: the PromQL (or a time, duration or step) does not parse. */
export class MetricsQueryInvalidException extends ValidationFailedException {
  constructor(message: string, details: ErrorDetails = {}) {
    super(HttpStatus.BAD_REQUEST, message, details);
  }
}

/** 400 VALIDATION_ERROR: valid PromQL the local fallback does not evaluate; `details.supported` says what it does. */
export class MetricsQueryUnsupportedException extends ValidationFailedException {
  constructor(what: string, supported: string) {
    super(
      HttpStatus.BAD_REQUEST,
      `The local metrics fallback (no PROM_URL) does not support ${what}; it supports ${supported}`,
      { unsupported: what, supported },
    );
  }
}

/** 400 VALIDATION_ERROR: Prometheus or Loki refused the query (their message in `details.upstream`). */
export class UpstreamQueryRejectedException extends ValidationFailedException {
  constructor(backend: 'prometheus' | 'loki', message: string) {
    super(HttpStatus.BAD_REQUEST, `${backend} refused the query: ${message}`, { backend, upstream: message });
  }
}

/** 503 OBSERVABILITY_UNAVAILABLE: Prometheus or Loki did not answer in time, or answered with a server error. */
export class UpstreamUnavailableException extends AppException {
  constructor(backend: 'prometheus' | 'loki', reason: string) {
    super(
      'OBSERVABILITY_UNAVAILABLE',
      HttpStatus.SERVICE_UNAVAILABLE,
      `${backend} is unavailable: ${reason}`,
      { backend },
      undefined,
      5,
    );
  }
}

/** 400 VALIDATION_ERROR: a logs query that cannot run as asked (a time range backwards, a LogQL metric query). */
export class LogsQueryInvalidException extends ValidationFailedException {
  constructor(message: string, details: ErrorDetails = {}) {
    super(HttpStatus.BAD_REQUEST, message, details);
  }
}
