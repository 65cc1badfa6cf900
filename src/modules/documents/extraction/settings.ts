import type { ColumnType } from './column-types';

export const PARSERS = ['auto', 'csv', 'xlsx', 'json'] as const;
export type Parser = (typeof PARSERS)[number];

/** How a document is read into tables: what a configuration version holds and a job records. */
export interface ExtractionSettings {
  /** `auto`: by the detected type. */
  parser: Parser;
  /** CSV/TSV: one character; default: sniffed from the first lines (`,` `;` tab `|`). */
  delimiter?: string;
  /** CSV/TSV quote character, default `"`. */
  quote?: string;
  /** Text encoding; default: detected (BOM, UTF-16 by its zero bytes, UTF-8, else Windows-1252). */
  encoding?: string;
  /** Whether the first record (after `skip_rows`) names the columns; without one they are `column_1`, ... */
  header_row: boolean;
  /** XLSX: the one sheet to load (by name); default every sheet, one table each. */
  sheet?: string;
  /** Records skipped at the start, before the header. */
  skip_rows: number;
  /** Most data rows loaded per table; more fail the job (default EXTRACTION_MAX_ROWS). */
  max_rows?: number;
  /** Column name (as sanitised) -> type, replacing the inferred one. */
  column_types: Record<string, ColumnType>;
}

export const DEFAULT_SETTINGS: ExtractionSettings = {
  parser: 'auto',
  header_row: true,
  skip_rows: 0,
  column_types: {},
};
