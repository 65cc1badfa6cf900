import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { AppException } from './app.exception';

const JSON_TYPES = ['application/json'];

/**
 * A route with a body accepts JSON unless it says otherwise with Swagger's `@ApiConsumes(...)`, so the one
 * decorator documents the accepted types and enforces them. Anything else answers 415.
 */
@Injectable()
export class ContentTypeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const accepted = this.reflector.getAllAndOverride<string[] | undefined>(DECORATORS.API_CONSUMES, [
        context.getHandler(),
        context.getClass(),
      ]);
      assertContentType(context.switchToHttp().getRequest<Request>(), accepted);
    }
    return next.handle();
  }
}

/**
 * 415 unless a request with a body sends one of `accepted` (JSON by default). Routes whose guard must read the
 * body first (a webhook's signature covers the raw JSON) call it from the guard.
 */
export function assertContentType(req: Request, accepted: string[] = JSON_TYPES): void {
  if (!hasBody(req)) return;
  const given = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const ok = accepted.some(
    (type) =>
      type === '*/*' ||
      type === given ||
      (type === 'application/json' && /^application\/[\w.-]+\+json$/.test(given)),
  );
  if (!ok) {
    throw new AppException(
      'UNSUPPORTED_MEDIA_TYPE',
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type '${given || 'none'}' is not supported here; send ${accepted.join(' or ')}`,
    );
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
