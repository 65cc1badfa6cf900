import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** Put on every create endpoint: `X-Idempotency-Key` makes retries return the first response. */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'X-Idempotency-Key',
      required: false,
      description:
        'Up to 255 characters. Retrying with the same key and body within 24 h replays the first response ' +
        '(with `Idempotent-Replayed: true`); 409 IDEMPOTENCY_IN_PROGRESS while the first is in flight; ' +
        '422 IDEMPOTENCY_KEY_REUSED for the same key with another body.',
    }),
    ApiConflictResponse({ description: 'IDEMPOTENCY_IN_PROGRESS (with Retry-After)' }),
    ApiUnprocessableEntityResponse({ description: 'VALIDATION_ERROR or IDEMPOTENCY_KEY_REUSED' }),
  );
