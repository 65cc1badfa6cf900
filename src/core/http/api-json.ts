import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';

/**
 * A free-form JSON object. Said explicitly because a bare `type: object` (what Swagger infers from `unknown` or
 * an interface) becomes `Record<string, never>` in generated clients.
 */
export const ApiJsonObject = (options: ApiPropertyOptions = {}) =>
  ApiProperty({ ...options, type: 'object', additionalProperties: true });

/** Any JSON value: a step's output, a run's input, resume data. */
export const ApiJsonValue = (options: ApiPropertyOptions = {}) =>
  ApiProperty({
    ...options,
    nullable: true,
    anyOf: [
      { type: 'object', additionalProperties: true },
      { type: 'array', items: {} },
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
    ],
  });
