import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AuthConfig } from '../config/auth.config';
import { bindPrincipal } from '../tenancy/request-context';
import { AUTH_METADATA, type AuthMetadata } from './auth.decorator';
import {
  AuthenticationRequiredException,
  InsufficientPermissionsException,
  InvalidTokenException,
} from './auth.exceptions';
import { hasRole, type Principal } from './principal';

const BYPASS: Principal = { role: 'admin', via: 'bypass' };

/**
 * The one global guard: `@Public()` routes pass; every other route needs a valid API key or JWT and at least
 * the role its `@Auth({ role })` names (any role when it names none).
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard(['api-key', 'jwt']) {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AuthConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const meta = this.reflector.getAllAndOverride<AuthMetadata | undefined>(AUTH_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (meta?.public) return true;

    const req = context.switchToHttp().getRequest<Request>();
    if (!this.config.AUTH_BYPASS) await super.canActivate(context);
    const principal = this.config.AUTH_BYPASS ? BYPASS : (req.user as Principal);
    bindPrincipal(req, principal);

    const required = meta?.role ?? 'viewer';
    if (!hasRole(principal, required)) throw new InsufficientPermissionsException(required, principal.role);
    return true;
  }

  override handleRequest<T>(error: unknown, user: T, info: unknown, context: ExecutionContext): T {
    if (user) return user;
    if (error instanceof Error) throw error;
    if (error) throw new Error(JSON.stringify(error));
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.header('authorization') && !req.header('x-api-key')) throw new AuthenticationRequiredException();
    throw new InvalidTokenException(reasonOf(info));
  }
}

/** passport reports one entry per strategy tried; the JWT library's message is the useful one. */
function reasonOf(info: unknown): string {
  const entries = (Array.isArray(info) ? info : [info]).filter(
    (entry): entry is Error => entry instanceof Error,
  );
  const message = entries.map((entry) => entry.message).find((text) => text !== 'No auth token');
  return message ?? 'unknown, malformed or revoked credential';
}
