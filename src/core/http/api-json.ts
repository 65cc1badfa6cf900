import { ApiProperty, type ApiPropertyOptions, type SchemaObject } from '@nestjs/swagger';

/**
 * Any JSON value. OpenAPI 3.0 has no type lists and `nullable` needs a `type` beside it, hence the union with null
 * on one branch; generated clients type it as that union.
 */
export const JSON_VALUE_SCHEMA = {
  anyOf: [
    { type: 'object', additionalProperties: true, nullable: true },
    { type: 'array', items: {} },
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
  ],
} satisfies SchemaObject;

/**
 * Any JSON value (a step's output, a run's input). Swagger would infer a bare `type: object` from `unknown`, which
 * generated clients type as `Record<string, never>`. Free-form objects need nothing: the Swagger plugin documents
 * `Record<string, unknown>` as `type: object, additionalProperties: true`.
 */
export const ApiJsonValue = (options: ApiPropertyOptions = {}) =>
  ApiProperty({ ...options, ...JSON_VALUE_SCHEMA });
