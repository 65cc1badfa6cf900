import { QueryInt } from './query-int';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** A page size (`limit`, `per_page`): 1..100, default 20; larger values are clamped to 100, as the SPEC says. */
export const PageSize = (
  description = `Page size: 1..${MAX_PAGE_SIZE}; larger values are clamped to ${MAX_PAGE_SIZE}.`,
) => QueryInt({ min: 1, clampAt: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description });

/** `page` >= 1 (default 1), `limit` 1..100 (default 20; larger values are clamped to 100). */
export class PageQuery {
  @QueryInt({ min: 1, default: 1, description: 'Page number, from 1' })
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
