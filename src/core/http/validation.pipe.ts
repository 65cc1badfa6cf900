import { HttpStatus, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationFailedException } from './app.exception';

/**
 * Constraints that mean "the field is missing or has the wrong shape": those answer 422. Any other
 * failed constraint (a range, a pattern, an enum) means the value is not allowed: 400.
 */
const SHAPE_CONSTRAINTS = new Set([
  'isDefined',
  'isNotEmpty',
  'isString',
  'isNumber',
  'isInt',
  'isBoolean',
  'isArray',
  'isObject',
  'isNotEmptyObject',
  'isDateString',
  'isISO8601',
  'whitelistValidation',
  'nestedValidation',
  'unknownValue',
  'isWorkflowDefinition',
]);

export interface FieldProblem {
  field: string;
  constraints: Record<string, string>;
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, constraints: error.constraints }] : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** An error body names at most this many fields (and says how many more there were). */
export const MAX_REPORTED_FIELDS = 20;

export function validationException(errors: ValidationError[]): ValidationFailedException {
  const all = flattenValidationErrors(errors);
  const fields = all.slice(0, MAX_REPORTED_FIELDS);
  const shape = all.some((f) => Object.keys(f.constraints).some((c) => SHAPE_CONSTRAINTS.has(c)));
  const more = all.length - fields.length;
  const message =
    fields.flatMap((f) => Object.values(f.constraints)).join('; ') + (more > 0 ? `; and ${more} more` : '');
  return new ValidationFailedException(
    shape ? HttpStatus.UNPROCESSABLE_ENTITY : HttpStatus.BAD_REQUEST,
    message || 'Validation failed',
    more > 0 ? { fields, more_fields: more } : { fields },
  );
}

/** Strict: unknown properties are refused, payloads are transformed into their DTO classes. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: validationException,
  });
}
