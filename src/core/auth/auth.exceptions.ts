import { HttpStatus } from '@nestjs/common';
import { AppException } from '../http/app.exception';

export class AuthenticationRequiredException extends AppException {
  constructor() {
    super(
      'AUTHENTICATION_REQUIRED',
      HttpStatus.UNAUTHORIZED,
      'Send Authorization: Bearer <JWT> or X-API-Key: <key>',
    );
  }
}

export class InvalidTokenException extends AppException {
  constructor(reason: string) {
    super('INVALID_TOKEN', HttpStatus.UNAUTHORIZED, `Invalid credentials: ${reason}`);
  }
}

export class InsufficientPermissionsException extends AppException {
  constructor(required: string, actual: string) {
    super(
      'INSUFFICIENT_PERMISSIONS',
      HttpStatus.FORBIDDEN,
      `This requires the '${required}' role; you have '${actual}'`,
    );
  }
}

export class TenantMismatchException extends AppException {
  constructor(authenticated: string | undefined, requested: string) {
    super(
      'TENANT_MISMATCH',
      HttpStatus.FORBIDDEN,
      `authenticated as '${authenticated ?? 'no tenant'}' but requested '${requested}'`,
    );
  }
}
