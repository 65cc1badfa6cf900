import type { Cell, ColumnType } from './column-types';
import { inferTypes } from './column-types';
import { ColumnMismatch } from './copy-loader';
import { readCsv } from './csv-reader';
import { detectEncoding, decodeHead, isKnownEncoding } from './decode';
import { readJson } from './json-reader';
import { columnNames, tableName } from './names';
import type { ExtractionSettings } from './settings';
import { sniffDelimiter } from './sniff';
import { ExtractionError, type OpenBytes, type RecordBatch, SheetRecords, type SheetSource } from './source';
import { readXlsx } from './xlsx-reader';

export interface ExtractionLimits {
  sampleRows: number;
  maxRows: number;
  maxColumns: number;
  xlsxMaxBytes: number;
}

export interface ExtractionInput {
  open: OpenBytes;
  /** The first bytes of the file (SNIFF_BYTES), for the encoding and the delimiter. */
  head: Buffer;
  /** Whether `head` is the whole file. */
  complete: boolean;
  /** The type the upload detected (`csv`, `tsv`, `json`, `xlsx`, ...). */
  detectedType: string;
  size: number;
  filename: string;
  jobId: string;
  settings: ExtractionSettings;
  limits: ExtractionLimits;
  /** `<table>.<column>` made text after a value past the sample did not fit the inferred type. */
  widened: Set<string>;
}

export interface PlannedTable {
  name: string;
  sheet?: string;
  columns: Array<{ name: string; type: ColumnType }>;
}

/** Where the rows go: creates the table and loads it, answering the rows loaded. */
export type TableSink = (table: PlannedTable, rows: AsyncIterable<RecordBatch>) => Promise<number>;

export interface ExtractedTable extends PlannedTable {
  row_count: number;
}

export interface Warning {
  table: string;
  message: string;
}

/** At most this many ragged rows are named one by one; the rest are counted. */
const MAX_NAMED_WARNINGS = 20;

/** Which reader reads the document: the configuration's parser, or the detected type for `auto`. */
export function parserFor(settings: ExtractionSettings, detectedType: string): 'csv' | 'xlsx' | 'json' {
  if (settings.parser !== 'auto') return settings.parser;
  // Text with no delimiter to find is a one-column CSV (or whatever the configured delimiter makes of it).
  if (detectedType === 'csv' || detectedType === 'tsv' || detectedType === 'text') return 'csv';
  if (detectedType === 'json' || detectedType === 'xlsx') return detectedType;
  throw new ExtractionError(
    'unsupported_type',
    `a ${detectedType} document has no tables to extract (CSV, TSV, XLSX, JSON and text do)`,
  );
}

async function sheetsOf(input: ExtractionInput): Promise<AsyncIterable<SheetSource> | SheetSource[]> {
  const parser = parserFor(input.settings, input.detectedType);
  if (parser === 'xlsx') {
    if (input.size > input.limits.xlsxMaxBytes) {
      throw new ExtractionError(
        'too_large',
        `XLSX files are extracted up to ${input.limits.xlsxMaxBytes} bytes (EXTRACTION_XLSX_MAX_BYTES); this one has ${input.size}`,
      );
    }
    return readXlsx(input.open, input.settings.sheet);
  }
  const encoding = input.settings.encoding ?? detectEncoding(input.head);
  if (!encoding || !isKnownEncoding(encoding)) {
    throw new ExtractionError('unsupported_type', 'the document is not text in an encoding Conflux reads');
  }
  if (parser === 'json') return readJson(input.open, { encoding });
  const delimiter =
    input.settings.delimiter ??
    (input.detectedType === 'tsv'
      ? '\t'
      : sniffDelimiter(decodeHead(input.head, encoding, input.complete), input.complete)) ??
    ',';
  return readCsv(input.open, { encoding, delimiter, quote: input.settings.quote ?? '"' });
}

/**
 * Reads every sheet of the document and hands each to `sink` as a typed table: records before `skip_rows` are
 * dropped, the header (when there is one) names the columns, the first `sampleRows` rows choose the types
 * (configuration overrides win), and ragged rows are padded or cut to the header's width and reported.
 */
export async function extract(
  input: ExtractionInput,
  sink: TableSink,
): Promise<{ tables: ExtractedTable[]; warnings: Warning[] }> {
  const tables: ExtractedTable[] = [];
  const warnings: Warning[] = [];
  const used = new Set<string>();
  const maxRows = Math.min(input.settings.max_rows ?? Infinity, input.limits.maxRows);
  let sheets = 0;
  for await (const sheet of await sheetsOf(input)) {
    sheets += 1;
    let name = tableName(input.filename, input.jobId, sheet.sheet);
    for (let n = 2; used.has(name); n += 1)
      name = tableName(input.filename, input.jobId, `${sheet.sheet ?? ''}_${n}`);
    used.add(name);
    const records = new SheetRecords(sheet);
    for (let i = 0; i < input.settings.skip_rows; i += 1) if ((await records.next()) === undefined) break;
    const headerRecord = sheet.columns || !input.settings.header_row ? undefined : await records.next();
    const header: Cell[] | undefined = sheet.columns ?? headerRecord?.row;
    // Where each sampled row came from: they are reported on after more has been read.
    const sample: Array<{ row: Cell[]; where: string }> = [];
    while (sample.length < input.limits.sampleRows) {
      const record = await records.next();
      if (record === undefined) break;
      sample.push(record);
    }
    if (!header && sample.length === 0) {
      // An empty sheet of a workbook is no table; an empty CSV is a failed job.
      if (sheet.sheet !== undefined) continue;
      throw new ExtractionError('empty', 'the document holds no rows');
    }
    const width = header ? header.length : Math.max(...sample.map(({ row }) => row.length));
    if (width > input.limits.maxColumns) {
      throw new ExtractionError(
        'too_many_columns',
        `${width} columns: at most ${input.limits.maxColumns} (EXTRACTION_MAX_COLUMNS)`,
      );
    }
    if (width === 0)
      throw new ExtractionError('empty', `${headerRecord?.where ?? 'line 1'}: the header names no columns`);
    const names = columnNames(
      header
        ? header.map((cell) => (typeof cell === 'string' ? cell : null))
        : new Array<null>(width).fill(null),
    );
    const inferred = inferTypes(
      sample.map(({ row }) => row),
      width,
    );
    const columns = names.map((column, i) => ({
      name: column,
      type: input.widened.has(`${name}.${column}`)
        ? 'text'
        : (input.settings.column_types[column] ?? inferred[i]),
    }));
    let ragged = 0;
    let count = 0;
    const table = name;
    /** Counts the batch's rows against the limit and pads or cuts ragged ones to the table's width. */
    const fit = (batch: RecordBatch): RecordBatch => {
      count += batch.rows.length;
      if (count > maxRows)
        throw new ExtractionError(
          'too_many_rows',
          `more than ${maxRows} rows (max_rows / EXTRACTION_MAX_ROWS)`,
        );
      for (let i = 0; i < batch.rows.length; i += 1) {
        const row = batch.rows[i];
        if (row.length === width) continue;
        ragged += 1;
        if (ragged <= MAX_NAMED_WARNINGS) {
          warnings.push({
            table,
            message: `${batch.where(i)}: ${row.length} values where the table has ${width} columns (${row.length > width ? 'extra values dropped' : 'missing values left empty'})`,
          });
        }
        batch.rows[i] =
          row.length > width
            ? row.slice(0, width)
            : [...row, ...new Array<null>(width - row.length).fill(null)];
      }
      return batch;
    };
    async function* rows(): AsyncGenerator<RecordBatch> {
      if (sample.length > 0) yield fit({ rows: sample.map(({ row }) => row), where: (i) => sample[i].where });
      for await (const batch of records.rest()) yield fit(batch);
    }
    let loaded: number;
    try {
      loaded = await sink(
        { name, ...(sheet.sheet !== undefined ? { sheet: sheet.sheet } : {}), columns },
        rows(),
      );
    } catch (error) {
      const configured =
        error instanceof ColumnMismatch ? input.settings.column_types[error.column] : undefined;
      if (configured) {
        throw new ExtractionError(
          'bad_value',
          `${(error as ColumnMismatch).where}: a value of column '${(error as ColumnMismatch).column}' is not a ${configured}, the type the configuration gives it`,
        );
      }
      throw error;
    }
    if (ragged > MAX_NAMED_WARNINGS) {
      warnings.push({ table, message: `${ragged - MAX_NAMED_WARNINGS} more ragged rows` });
    }
    tables.push({
      name,
      ...(sheet.sheet !== undefined ? { sheet: sheet.sheet } : {}),
      columns,
      row_count: loaded,
    });
  }
  if (tables.length === 0) {
    throw new ExtractionError('empty', sheets === 0 ? 'the workbook has no sheets' : 'every sheet is empty');
  }
  return { tables, warnings };
}
