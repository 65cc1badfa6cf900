import { HttpStatus } from '@nestjs/common';
import { AppException, ValidationFailedException } from '../../core/http/app.exception';

export class RunOfAnotherTenantException extends AppException {
  constructor(runId: string) {
    super('TENANT_MISMATCH', HttpStatus.FORBIDDEN, `Run '${runId}' belongs to another tenant`);
  }
}

export class AuthTimeoutException extends AppException {
  constructor(ms: number) {
    super(
      'AUTHENTICATION_REQUIRED',
      HttpStatus.UNAUTHORIZED,
      `Send ?access_token= or {"type":"auth","token":"..."} as the first frame within ${ms} ms`,
    );
  }
}

export class AuthFrameFirstException extends AppException {
  constructor() {
    super(
      'AUTHENTICATION_REQUIRED',
      HttpStatus.UNAUTHORIZED,
      'The first frame must be {"type":"auth","token":"<JWT or API key>"}',
    );
  }
}

export class InvalidFrameException extends ValidationFailedException {
  constructor(reason: string) {
    super(HttpStatus.BAD_REQUEST, reason, {});
  }
}

export class SystemTopicException extends AppException {
  constructor(topic: string) {
    super(
      'INSUFFICIENT_PERMISSIONS',
      HttpStatus.FORBIDDEN,
      `'${topic}' is a system topic: only Conflux publishes on it`,
    );
  }
}

export class TooManySocketsException extends AppException {
  constructor(limit: number) {
    super(
      'RATE_LIMITED',
      HttpStatus.TOO_MANY_REQUESTS,
      `At most ${limit} open sockets per tenant on one API process; close one first`,
    );
  }
}
