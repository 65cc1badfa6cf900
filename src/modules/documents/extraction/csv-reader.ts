import { pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { Cell } from './column-types';
import { decoder } from './decode';
import { ExtractionError, type OpenBytes, type SheetSource } from './source';

/** One record's largest size: a runaway quote fails the job here instead of growing memory. */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/**
 * CSV or TSV as one sheet: decoded from `encoding` as it streams, parsed by csv-parse (quoted fields may hold
 * delimiters and newlines; ragged rows come through for the caller to report). A malformed record fails with the
 * line it starts on.
 */
export async function readCsv(
  open: OpenBytes,
  options: { encoding: string; delimiter: string; quote: string },
): Promise<SheetSource[]> {
  const bytes = await open();
  const parser = parse({
    delimiter: options.delimiter,
    quote: options.quote,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    // Each record with its own line count: the parser's running count is ahead of the consumer.
    info: true,
  });
  const records = pipeline(bytes, decoder(options.encoding), parser, () => undefined);
  let lastLine = 0;
  async function* iterate(): AsyncGenerator<Cell[]> {
    try {
      for await (const { record, info } of records as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        lastLine = info.lines;
        yield record.map((value) => (value === '' ? null : value));
      }
    } catch (error) {
      if (error instanceof CsvError) {
        throw new ExtractionError(
          'malformed',
          `malformed CSV in the record starting at line ${lastLine + 1}: ${error.message}`,
        );
      }
      throw error;
    } finally {
      bytes.destroy();
    }
  }
  return [{ records: iterate(), position: () => `line ${lastLine}` }];
}
