import { describe, expect, it } from '@jest/globals';
import { columnNames, tableName } from './names';

describe('columnNames', () => {
  it('sanitises, numbers the empty ones, avoids system columns and de-duplicates', () => {
    expect(
      columnNames(['Unit Price (€)', '', 'Amount', 'amount', '2024 total', 'ctid', 'Café', null]),
    ).toEqual(['unit_price', 'column_2', 'amount', 'amount_2', 'c_2024_total', 'ctid_', 'cafe', 'column_8']);
  });
});

describe('tableName', () => {
  it('is the file name, the sheet and the job, within 63 characters', () => {
    const job = '3f2a9c1b-0000-4000-8000-000000000000';
    expect(tableName('Sales Q1.csv', job)).toBe('sales_q1_3f2a9c1b');
    expect(tableName('report.xlsx', job, 'People')).toBe('report_people_3f2a9c1b');
    expect(tableName('!!!.csv', job)).toBe('document_3f2a9c1b');
    expect(tableName(`${'x'.repeat(200)}.csv`, job, 'y'.repeat(100)).length).toBeLessThanOrEqual(63);
  });
});
