import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { bindPrincipal } from '../tenancy/request-context';
import { AUTH_METADATA, type AuthMetadata } from './auth.decorator';
import { InsufficientPermissionsException } from './auth.exceptions';
import { Authenticator } from './authenticator';
import { hasRole } from './principal';

/**
 * The one global guard: `@Public()` routes pass; every other route needs a valid API key or JWT and at least
 * the role its `@Auth({ role })` names (any role when it names none).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const meta = this.reflector.getAllAndOverride<AuthMetadata | undefined>(AUTH_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (meta?.public) return true;

    const req = context.switchToHttp().getRequest<Request>();
    const principal = await this.authenticator.authenticate(req);
    bindPrincipal(req, principal);

    const required = meta?.role ?? 'viewer';
    if (!hasRole(principal, required)) throw new InsufficientPermissionsException(required, principal.role);
    return true;
  }
}
