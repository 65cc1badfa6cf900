import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal, Role } from './principal';

export const AUTH_METADATA = 'conflux:auth';

export interface AuthMetadata {
  public?: boolean;
  role?: Role;
}

/**
 * The one route decorator: the least role a route needs (platform admins pass every check), read by the
 * global guard, and the Swagger security that documents it. Routes without it need any authenticated role.
 */
export const Auth = (options: { role: Role }) =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { role: options.role } satisfies AuthMetadata),
    ApiBearerAuth('bearer'),
    ApiSecurity('api-key'),
    ApiUnauthorizedResponse({ description: 'AUTHENTICATION_REQUIRED or INVALID_TOKEN' }),
    ApiForbiddenResponse({
      description: `INSUFFICIENT_PERMISSIONS (needs ${options.role}) or TENANT_MISMATCH`,
    }),
  );

/**
 * No credential needed (health, docs, login, signed webhooks): the global guard lets the request through.
 * Swagger shows the route as open (`{}`), or open and also taking the security `schemes` it checks itself.
 */
export const Public = (...schemes: string[]) =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { public: true } satisfies AuthMetadata),
    ...schemes.map((scheme) => ApiSecurity(scheme)),
    ApiSecurity({}),
  );

/** The authenticated principal of this request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<Request>().user as Principal,
);
