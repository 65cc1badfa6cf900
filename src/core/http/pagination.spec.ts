import { describe, expect, it } from '@jest/globals';
import { AppException } from './app.exception';
import { PageQuery, PageSize } from './pagination';
import { createValidationPipe } from './validation.pipe';

class AliasedQuery extends PageQuery {
  @PageSize()
  per_page?: number;
}

const pipe = createValidationPipe();
const parse = (query: Record<string, string>) =>
  pipe.transform(query, { type: 'query', metatype: AliasedQuery }) as Promise<AliasedQuery>;
const statusOf = (query: Record<string, string>) =>
  parse(query).then(
    () => 200,
    (error: unknown) => (error instanceof AppException ? error.getStatus() : 500),
  );

describe('pagination query', () => {
  it('defaults to page 1 of 20', async () => {
    const query = await parse({});
    expect([query.page, query.limit, query.per_page, query.offset]).toEqual([1, 20, undefined, 0]);
  });

  it('clamps page sizes above 100 to 100, as the SPEC says', async () => {
    const query = await parse({ page: '3', limit: '1000', per_page: '250' });
    expect([query.page, query.limit, query.per_page, query.offset]).toEqual([3, 100, 100, 200]);
  });

  it('refuses sizes below 1 (400) and values that are not integers (422)', async () => {
    expect(await statusOf({ limit: '0' })).toBe(400);
    expect(await statusOf({ per_page: '-5' })).toBe(400);
    expect(await statusOf({ page: '0' })).toBe(400);
    expect(await statusOf({ per_page: 'all' })).toBe(422);
    expect(await statusOf({ limit: '2.5' })).toBe(422);
  });

  it('reads decimal digits only, as many as a safe integer holds (422 otherwise)', async () => {
    for (const value of ['0x10', '1e3', '', ' 7', '99999999999999999999']) {
      expect({ value, status: await statusOf({ page: value }) }).toEqual({ value, status: 422 });
    }
    expect((await parse({ page: '999999999999999' })).page).toBe(999999999999999);
  });
});
