import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class SsoProviderNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('SSO provider', id, 'SSO_PROVIDER_NOT_FOUND');
  }
}

/** 401: the callback does not complete a login this API started (state unknown, expired, replayed, or altered). */
export class SsoLoginFailedException extends AppException {
  constructor(reason: string) {
    super('INVALID_TOKEN', HttpStatus.UNAUTHORIZED, `Single sign-on failed: ${reason}`);
  }
}

/** 403: the provider vouched for the person, but this deployment does not let them in. */
export class SsoAccessDeniedException extends AppException {
  constructor(reason: string) {
    super('INSUFFICIENT_PERMISSIONS', HttpStatus.FORBIDDEN, `Single sign-on refused: ${reason}`);
  }
}

export class SsoProviderUnavailableException extends AppException {
  constructor(id: string, reason: string) {
    super(
      'SSO_PROVIDER_UNAVAILABLE',
      HttpStatus.BAD_GATEWAY,
      `SSO provider '${id}' is unreachable: ${reason}`,
    );
  }
}

export class RedirectUriNotAllowedException extends ValidationFailedException {
  constructor(uri: string) {
    super(HttpStatus.BAD_REQUEST, `redirect_uri '${uri}' is not one of the provider's redirect_uris`, {
      fields: [
        { field: 'redirect_uri', constraints: { allowed: 'must be one of the provider redirect_uris' } },
      ],
    });
  }
}
