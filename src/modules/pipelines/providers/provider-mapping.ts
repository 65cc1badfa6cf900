import type { FocusColumn } from '../focus/focus-columns';

/**
 * How one cloud provider's billing export becomes FOCUS rows. The export is first copied as it is into a
 * staging table whose columns are all `text` and named exactly as the export's header (so `"lineItem/UnblendedCost"`
 * or `"service.description"`); each FOCUS column is then one SQL expression over that table, aliased `r`.
 * Expressions are fixed code, never built from run input.
 */
export interface ProviderMapping {
  /** The path segment of the templates (`templates/<provider>/...`). */
  provider: 'aws' | 'gcp' | 'azure';
  /** FOCUS ProviderName. */
  providerName: string;
  /** What the export is, for the templates' descriptions. */
  exportName: string;
  /** Header columns the expressions read: an export missing one is refused, naming it. */
  requiredColumns: readonly string[];
  /** One SQL expression per FOCUS column over `r` (the all-text staging table); `NULL` where the source has none. */
  focus: Record<FocusColumn, string>;
  /** SQL over `r`: the row's billed cost as the source states it (summed by the totals reconciliation check). */
  sourceCost: string;
  /**
   * The deterministic sample export: the header, then `rows` data rows in the provider's real column layout,
   * the same for the same `seed`. Cells are strings ('' for empty).
   */
  sample(rows: number, seed?: number): Iterable<string[]>;
}

/** `r."<column>"` as numeric, an empty cell as NULL. */
export const numericCell = (column: string): string => `NULLIF(r."${column}", '')::numeric`;

/**
 * A ServiceCategory expression: the category of the first list holding `r."<column>"`, else 'Other'. The values
 * are the mapping's own literals, never run input.
 */
export const serviceCategoryOf = (column: string, pairs: Array<[readonly string[], string]>): string =>
  `CASE ${pairs
    .map(
      ([values, category]) =>
        `WHEN r."${column}" IN (${values.map((v) => `'${v}'`).join(', ')}) THEN '${category}'`,
    )
    .join(' ')} ELSE 'Other' END`;
