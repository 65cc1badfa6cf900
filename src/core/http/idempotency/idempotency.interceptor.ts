import { createHash } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { Principal } from '../../auth/principal';
import { Transactions } from '../../database/transaction';
import { canonicalJson } from '../canonical-json';
import { AppException, ValidationFailedException } from '../app.exception';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_HEADER = 'x-idempotency-key';
/** Route metadata: the response fields `@Idempotent({ secrets })` keeps out of the stored response. */
export const IDEMPOTENT_SECRETS = 'conflux:idempotent-secrets';
const MAX_KEY_LENGTH = 255;

export class IdempotencyInProgressException extends AppException {
  constructor() {
    super(
      'IDEMPOTENCY_IN_PROGRESS',
      HttpStatus.CONFLICT,
      'A request with this X-Idempotency-Key is still in flight; retry shortly',
      undefined,
      undefined,
      1,
    );
  }
}

export class IdempotencyKeyReusedException extends AppException {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      HttpStatus.UNPROCESSABLE_ENTITY,
      'This X-Idempotency-Key was used with a different request (method, path or body)',
    );
  }
}

/**
 * Makes a create endpoint safe to retry. The request runs in one transaction that also holds the key's
 * record, so the resource and the stored response commit together or not at all: a process that dies
 * mid-request leaves neither (its connection drops, Postgres rolls back and releases the key's advisory
 * lock), and a retry then simply runs again. While the first request is in flight its advisory lock is
 * held and a retry gets 409 IDEMPOTENCY_IN_PROGRESS; once committed, retries replay the stored response.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly tx: Transactions,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const key = req.header(IDEMPOTENCY_HEADER);
    if (key === undefined) return next.handle();
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new ValidationFailedException(
        HttpStatus.BAD_REQUEST,
        `X-Idempotency-Key must be 1-${MAX_KEY_LENGTH} characters`,
        {
          fields: [
            {
              field: 'X-Idempotency-Key',
              constraints: { maxLength: `at most ${MAX_KEY_LENGTH} characters` },
            },
          ],
        },
      );
    }
    const res = context.switchToHttp().getResponse<Response>();
    const secrets = this.reflector.get<string[] | undefined>(IDEMPOTENT_SECRETS, context.getHandler()) ?? [];
    const scope = scopeOf(req.user as Principal);
    const fingerprint = createHash('sha256')
      .update(`${req.method}\n${req.baseUrl}${req.path}\n${canonicalJson(req.body ?? null)}`)
      .digest('hex');

    return from(
      this.tx.run(async () => {
        const existing = await this.repository.claim(scope, key, fingerprint);
        if (existing === 'in_flight') throw new IdempotencyInProgressException();
        if (existing !== 'claimed') {
          if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedException();
          if (existing.response_status) res.status(existing.response_status);
          res.setHeader('Idempotent-Replayed', 'true');
          if (secrets.length > 0) res.setHeader('Idempotent-Secrets-Withheld', secrets.join(', '));
          return existing.response_body;
        }
        const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        // Nest set the route's status before the interceptors ran; a handler may have changed it since.
        await this.repository.complete(scope, key, res.statusCode, withoutFields(body, secrets));
        return body;
      }),
    );
  }
}

function scopeOf(principal: Principal): string {
  return principal.tenant_id ?? `platform:${principal.user_id ?? principal.via}`;
}

function withoutFields(body: unknown, fields: string[]): unknown {
  if (fields.length === 0 || typeof body !== 'object' || body === null) return body;
  return Object.fromEntries(Object.entries(body).filter(([field]) => !fields.includes(field)));
}
