import { describe, expect, it } from '@jest/globals';
import { fits, inferTypes } from './column-types';

describe('inferTypes', () => {
  it('picks the narrowest type every sampled value fits', () => {
    const rows = [
      ['1', 'true', '1.5', '2025-01-31', '2025-01-31T10:00:00Z', '007', 'x', null],
      ['-20', 'FALSE', '3', '2024-02-29', '2025-01-31 10:00', '12', { json: { a: 1 } }, null],
    ];
    expect(inferTypes(rows, 8)).toEqual([
      'bigint',
      'boolean',
      'numeric',
      'date',
      'timestamptz',
      'text',
      'jsonb',
      'text',
    ]);
  });

  it('keeps leading zeros, impossible dates and out-of-range integers as text', () => {
    expect(inferTypes([['0123'], ['5']], 1)).toEqual(['text']);
    expect(inferTypes([['2025-02-30']], 1)).toEqual(['text']);
    expect(inferTypes([['99999999999999999999']], 1)).toEqual(['numeric']);
    expect(fits('bigint', '9223372036854775807')).toBe(true);
    expect(fits('bigint', '9223372036854775808')).toBe(false);
  });

  it('lets anything be text or jsonb', () => {
    expect(fits('text', { json: [1] })).toBe(true);
    expect(fits('jsonb', 'plain')).toBe(true);
    expect(fits('bigint', { json: 1 })).toBe(false);
  });
});
