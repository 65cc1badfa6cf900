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
  records: AsyncIterable<Cell[]>;
  /** Where the last record came from (`line 12`, `row 7`), for messages. */
  position: () => string;
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
