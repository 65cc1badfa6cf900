import { pipeline } from 'node:stream';
import Papa from 'papaparse';
import type { Cell } from './column-types';
import { decoder } from './decode';
import { ExtractionError, type OpenBytes, type SheetSource } from './source';

/** One record's largest size: a runaway quote fails the job here instead of growing memory. */
const MAX_RECORD_CHARS = 8 * 1024 * 1024;

interface ParseResult {
  data: string[][];
  errors: Array<{ code: string; message: string; row: number }>;
  meta: { cursor: number };
}

/** The file's line break, from its first text: `\r\n`, a lone `\r` (old Mac) or `\n`. */
function lineBreakOf(text: string): '\n' | '\r\n' | '\r' {
  const lf = text.indexOf('\n');
  if (lf > 0 && text[lf - 1] === '\r') return '\r\n';
  return lf < 0 && text.includes('\r') ? '\r' : '\n';
}

/**
 * CSV or TSV as one sheet: decoded from `encoding` as it streams and parsed chunk by chunk by papaparse's
 * parser (quoted fields may hold delimiters and newlines; ragged rows come through for the caller to report;
 * empty lines are skipped). Each chunk is parsed up to its last whole record and the rest carried into the next.
 * A malformed record fails with the line it starts on.
 */
export async function readCsv(
  open: OpenBytes,
  options: { encoding: string; delimiter: string; quote: string },
): Promise<SheetSource[]> {
  const bytes = await open();
  const text = pipeline(bytes, decoder(options.encoding), () => undefined);
  // The line each record of the latest batch starts on, and the lines read so far.
  let starts: number[] = [];
  let lines = 0;
  const malformed = (line: number, why: string) =>
    new ExtractionError('malformed', `malformed CSV in the record starting at line ${line}: ${why}`);
  // The character that ends a line: a quoted value holding it spans that many more lines.
  let ends = '\n';

  /** A parse's records (empty lines dropped, empty values as null), each with the line it starts on. */
  const batchOf = (result: ParseResult, complete: boolean): Cell[][] => {
    // An error in the record still being read (the chunk's last) is found again once it is whole.
    const error = result.errors.find((e) => complete || e.row < result.data.length);
    const batch: Cell[][] = [];
    starts = [];
    for (let i = 0; i < result.data.length; i += 1) {
      const row = result.data[i] as Cell[];
      const line = lines + 1;
      lines += 1;
      for (let c = 0; c < row.length; c += 1) {
        const value = row[c] as string;
        if (value === '') row[c] = null;
        else if (value.includes(ends)) lines += value.split(ends).length - 1;
      }
      if (error?.row === i) throw malformed(line, error.message);
      if (row.length === 1 && row[0] === null) continue;
      batch.push(row);
      starts.push(line);
    }
    if (error && error.row >= result.data.length) throw malformed(lines + 1, error.message);
    return batch;
  };

  async function* batches(): AsyncGenerator<Cell[][]> {
    let parser: Papa.Parser | undefined;
    let carry = '';
    try {
      for await (const chunk of text as AsyncIterable<string | Buffer>) {
        const input = carry + (typeof chunk === 'string' ? chunk : chunk.toString());
        if (!parser) {
          const newline = lineBreakOf(input);
          ends = newline.at(-1) as string;
          parser = new Papa.Parser({ delimiter: options.delimiter, quoteChar: options.quote, newline });
        }
        const result = parser.parse(input, 0, true) as ParseResult;
        carry = input.slice(result.meta.cursor);
        const batch = batchOf(result, false);
        if (batch.length > 0) yield batch;
        if (carry.length > MAX_RECORD_CHARS)
          throw malformed(
            lines + 1,
            `a record longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`,
          );
      }
      if (parser && carry) {
        const batch = batchOf(parser.parse(carry, 0, false) as ParseResult, true);
        if (batch.length > 0) yield batch;
      }
    } finally {
      bytes.destroy();
    }
  }
  return [{ records: batches(), position: (i) => `line ${starts[i] ?? lines}` }];
}
