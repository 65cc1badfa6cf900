import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** A page size (`limit`, `per_page`): 1..100, default 20; larger values are clamped to 100, as the SPEC says. */
export const PageSize = (description = `Page size: 1..${MAX_PAGE_SIZE}, larger values are clamped to it.`) =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: DEFAULT_PAGE_SIZE,
      description,
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'number' && value > MAX_PAGE_SIZE ? MAX_PAGE_SIZE : value,
    ),
  );

/** `page` >= 1 (default 1), `limit` 1..100 (default 20; larger values are clamped to 100). */
export class PageQuery {
  // Declared by hand: this file is not a DTO file the Swagger plugin reads, and a defaulted field would
  // otherwise be documented as required.
  @ApiPropertyOptional({ type: 'integer', minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number = 1;

  @PageSize()
  limit: number = DEFAULT_PAGE_SIZE;

  get offset(): number {
    return (this.page - 1) * this.limit;
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}
