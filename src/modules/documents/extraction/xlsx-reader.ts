import type ExcelJS from 'exceljs';
import type { Cell } from './column-types';
import { ExtractionError, type OpenBytes, type SheetSource } from './source';

type CellValue = ExcelJS.CellValue;

/** Rows per batch handed on. */
const BATCH_ROWS = 256;

const pad = (n: number) => String(n).padStart(2, '0');

/** A date cell as text: a date alone when it has no time of day, else an ISO-8601 UTC timestamp. */
function dateText(date: Date): string {
  if (
    date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0
  )
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  return date.toISOString();
}

/** What a cell shows: formulas by their cached result, rich text and hyperlinks by their text. */
export function cellText(value: CellValue): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return dateText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value === '' ? null : value;
  if ('richText' in value) return value.richText.map((part) => part.text).join('') || null;
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: unknown }).result;
    if (result !== null && typeof result === 'object' && 'error' in result)
      return String((result as { error: string }).error);
    return cellText(result as CellValue);
  }
  if ('hyperlink' in value) return cellText((value as { text?: CellValue }).text ?? value.hyperlink);
  if ('error' in value) return String(value.error);
  return JSON.stringify(value);
}

/**
 * The sheets of an XLSX workbook, streamed (exceljs's WorkbookReader: rows are never all in memory; shared
 * strings are). `only` picks one sheet by name; a name no sheet has fails the job, naming the sheets there are.
 */
export async function* readXlsx(open: OpenBytes, only?: string): AsyncGenerator<SheetSource> {
  // Loaded on the first workbook: exceljs is about 9 MB of heap that every worker would otherwise carry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { stream } = require('exceljs') as typeof ExcelJS;
  const reader = new stream.xlsx.WorkbookReader(await open(), {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const seen: string[] = [];
  try {
    for await (const worksheet of reader) {
      const name = (worksheet as unknown as { name: string }).name;
      seen.push(name);
      if (only !== undefined && name !== only) {
        // Each sheet must be read through before the next one comes.
        for await (const _row of worksheet) void _row;
        continue;
      }
      // The sheet row numbers of the latest batch.
      let numbers: number[] = [];
      async function* rows(): AsyncGenerator<Cell[][]> {
        let batch: Cell[][] = [];
        let next: number[] = [];
        try {
          for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
            // Array.from, not map: row.values is sparse where cells are empty.
            batch.push(Array.from((row.values as CellValue[]).slice(1), cellText));
            next.push(row.number);
            if (batch.length === BATCH_ROWS) {
              numbers = next;
              yield batch;
              batch = [];
              next = [];
            }
          }
        } catch (error) {
          throw unreadable(error);
        }
        numbers = next;
        if (batch.length > 0) yield batch;
      }
      yield { sheet: name, records: rows(), position: (i) => `sheet '${name}' row ${numbers[i] ?? '?'}` };
    }
  } catch (error) {
    throw unreadable(error);
  }
  if (only !== undefined && !seen.includes(only)) {
    throw new ExtractionError('settings', `the workbook has no sheet '${only}' (sheets: ${seen.join(', ')})`);
  }
}

function unreadable(error: unknown): Error {
  if (error instanceof ExtractionError) return error;
  return new ExtractionError('malformed', `unreadable XLSX: ${(error as Error).message}`);
}
