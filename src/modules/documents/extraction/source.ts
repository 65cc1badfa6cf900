import type { Readable } from 'node:stream';
import type { Cell } from './column-types';

/** A fresh stream of the document's bytes, from the start (readers that need two passes open it twice). */
export type OpenBytes = () => Promise<Readable>;

/** One table's worth of records, as a reader yields them: header and data alike, in file order. */
export interface SheetSource {
  /** The XLSX sheet's name; undefined for CSV, TSV and JSON. */
  sheet?: string;
  /** The names a reader knows without a header record (JSON keys); else the header record names them. */
  columns?: string[];
  /** The records, a batch at a time (the chunk of the file each came from; no per-record await). */
  records: AsyncIterable<Cell[][]>;
  /** Where record `i` of the latest batch came from (`line 12`, `row 7`), for messages. */
  position: (i: number) => string;
}

/** Records on their way to a table, with where each came from (for messages). */
export interface RecordBatch {
  rows: Cell[][];
  where: (i: number) => string;
}

/**
 * A sheet's records one at a time, for the few read before its table's rows (skipped, header, sample), then
 * the rest a batch at a time.
 */
export class SheetRecords {
  private readonly iterator: AsyncIterator<Cell[][]>;
  private batch: Cell[][] = [];
  private at = 0;

  constructor(private readonly sheet: SheetSource) {
    this.iterator = sheet.records[Symbol.asyncIterator]();
  }

  async next(): Promise<{ row: Cell[]; where: string } | undefined> {
    while (this.at >= this.batch.length) {
      const result = await this.iterator.next();
      if (result.done) return undefined;
      this.batch = result.value;
      this.at = 0;
    }
    const i = this.at++;
    return { row: this.batch[i], where: this.sheet.position(i) };
  }

  /** What is left of the current batch, then every following one. */
  async *rest(): AsyncGenerator<RecordBatch> {
    const offset = this.at;
    if (offset < this.batch.length)
      yield { rows: this.batch.slice(offset), where: (i) => this.sheet.position(offset + i) };
    for (;;) {
      const result = await this.iterator.next();
      if (result.done) return;
      yield { rows: result.value, where: (i) => this.sheet.position(i) };
    }
  }
}

/** Why a job failed, in words a user acts on; `reason` labels the failure metric. */
export class ExtractionError extends Error {
  constructor(
    readonly reason:
      | 'malformed'
      | 'unsupported_type'
      | 'too_many_rows'
      | 'too_many_columns'
      | 'too_large'
      | 'empty'
      | 'no_dataset'
      | 'bad_value'
      | 'settings',
    message: string,
  ) {
    super(message);
    this.name = 'ExtractionError';
  }
}
