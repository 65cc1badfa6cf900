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

  it('never takes as a timestamp what Postgres refuses (that would fail the job, not make the column text)', () => {
    for (const ok of [
      '2024-01-01 10:00:60',
      '2024-01-01T10:00:00.123456Z',
      '2024-01-01 10:00:00+15:59',
      '2024-01-01 10:00-0530',
      '0001-01-01 00:00',
    ])
      expect([ok, fits('timestamptz', ok)]).toEqual([ok, true]);
    for (const refused of [
      '2024-01-01 10:00:61',
      '2024-01-01 10:00:00+16',
      '2024-01-01 10:00:00+01:60',
      '0000-01-01 00:00',
    ])
      expect([refused, fits('timestamptz', refused)]).toEqual([refused, false]);
  });

  it('lets anything be text or jsonb', () => {
    expect(fits('text', { json: [1] })).toBe(true);
    expect(fits('jsonb', 'plain')).toBe(true);
    expect(fits('bigint', { json: 1 })).toBe(false);
  });
});
