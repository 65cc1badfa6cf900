import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { IDEMPOTENT_SECRETS, IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * Put on every create endpoint: `X-Idempotency-Key` makes retries return the first response. `secrets` names
 * the response's top-level fields shown once (a new API key, a generated password): they are never stored, and
 * a replay answers without them, saying so in `Idempotent-Secrets-Withheld`.
 */
export const Idempotent = (options: { secrets?: string[] } = {}) =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    SetMetadata(IDEMPOTENT_SECRETS, options.secrets ?? []),
    ApiHeader({
      name: 'X-Idempotency-Key',
      required: false,
      description:
        'Up to 255 characters. Retrying with the same key and body within 24 h replays the first response ' +
        '(with `Idempotent-Replayed: true`); 409 IDEMPOTENCY_IN_PROGRESS while the first is in flight; ' +
        '422 IDEMPOTENCY_KEY_REUSED for the same key with another body.' +
        (options.secrets?.length
          ? ` A replay omits the once-shown ${options.secrets.map((f) => `\`${f}\``).join(', ')} (header \`Idempotent-Secrets-Withheld\`).`
          : ''),
    }),
    ApiConflictResponse({ description: 'IDEMPOTENCY_IN_PROGRESS (with Retry-After)' }),
    ApiUnprocessableEntityResponse({ description: 'VALIDATION_ERROR or IDEMPOTENCY_KEY_REUSED' }),
  );
