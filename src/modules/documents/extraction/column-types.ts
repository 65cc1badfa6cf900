/** The column types an extracted table may have, narrowest first (inference tries them in this order). */
export const COLUMN_TYPES = ['boolean', 'bigint', 'numeric', 'date', 'timestamptz', 'jsonb', 'text'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A cell as a reader yields it: text, nothing (SQL NULL), or a nested JSON value (jsonb). */
export type Cell = string | null | { json: unknown };

const BOOLEAN = /^(true|false)$/i;
const INTEGER = /^-?(0|[1-9]\d{0,18})$/;
const NUMERIC = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d{1,3})?$|^-?\.\d+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Date, hour, minute, then optional seconds (6) and UTC offset hours (7) and minutes (8). */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[-+](\d{2})(?::?(\d{2}))?)?$/i;
const BIGINT_MAX = 2n ** 63n - 1n;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= DAYS_IN_MONTH[m - 1] + (leap ? 1 : 0);
}

/**
 * Whether a (non-null) cell can be stored as `type` exactly as written: integers with a leading zero (`007`,
 * a zip code) are not numbers, dates must exist; anything fits text (nested values as their JSON) and jsonb.
 */
export function fits(type: ColumnType, cell: Exclude<Cell, null>): boolean {
  if (type === 'text' || type === 'jsonb') return true;
  if (typeof cell !== 'string') return false;
  switch (type) {
    case 'boolean':
      return BOOLEAN.test(cell);
    case 'bigint': {
      if (!INTEGER.test(cell)) return false;
      const value = BigInt(cell);
      return value <= BIGINT_MAX && value >= -BIGINT_MAX - 1n;
    }
    case 'numeric':
      return NUMERIC.test(cell);
    case 'date': {
      const match = DATE.exec(cell);
      return match !== null && validDate(match[1], match[2], match[3]);
    }
    case 'timestamptz': {
      const match = TIMESTAMP.exec(cell);
      // As Postgres takes them: second 60 rolls over (a leap second), offsets reach +-15:59.
      return (
        match !== null &&
        validDate(match[1], match[2], match[3]) &&
        Number(match[4]) < 24 &&
        Number(match[5]) < 60 &&
        Number(match[6] ?? 0) <= 60 &&
        Number(match[7] ?? 0) <= 15 &&
        Number(match[8] ?? 0) < 60
      );
    }
  }
}

/**
 * Each column's narrowest type that every non-null sampled value fits; all-null columns are text, and jsonb is
 * chosen only for nested values (a column of JSON-looking strings stays text).
 */
export function inferTypes(rows: Cell[][], width: number): ColumnType[] {
  const types: ColumnType[] = [];
  for (let column = 0; column < width; column += 1) {
    const values = rows.map((row) => row[column]).filter((cell): cell is Exclude<Cell, null> => cell != null);
    if (values.length === 0) {
      types.push('text');
      continue;
    }
    if (values.some((value) => typeof value !== 'string')) {
      types.push('jsonb');
      continue;
    }
    types.push(
      COLUMN_TYPES.find((type) => type !== 'jsonb' && values.every((value) => fits(type, value))) ?? 'text',
    );
  }
  return types;
}
