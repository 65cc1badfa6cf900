import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export interface QueryIntOptions {
  min: number;
  /** Larger values are refused (400). */
  max?: number;
  /** Larger values are read as this one. */
  clampAt?: number;
  default?: number;
  description?: string;
}

/**
 * An optional integer query parameter, documented as one. Only decimal digits are read, at most 15, so the value
 * is always a safe integer; anything else (`0x10`, `1e3`, `''`, which `Number()` would take, or more digits, which
 * it would round) stays a string and fails IsInt: 422.
 */
export const QueryInt = ({ min, max, clampAt, default: fallback, description }: QueryIntOptions) =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: min,
      maximum: max ?? clampAt,
      default: fallback,
      description,
    }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => {
      const parsed = typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
      return clampAt !== undefined && typeof parsed === 'number' && parsed > clampAt ? clampAt : parsed;
    }),
    IsInt(),
    Min(min),
    ...(max === undefined ? [] : [Max(max)]),
  );
