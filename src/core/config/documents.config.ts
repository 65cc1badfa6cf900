import { IsInt, Max, Min } from 'class-validator';

/** Documents and their extraction into tenant tables (the upload limit itself is storage's `UPLOAD_LIMIT`). */
export class DocumentsConfig {
  /** Rows read before a table's column types are chosen; a later value that does not fit makes that column text. */
  @IsInt()
  @Min(10)
  @Max(100_000)
  EXTRACTION_SAMPLE_ROWS: number = 1000;

  /** Most rows one extracted table may hold (a configuration's `max_rows` may lower it); past it the job fails. */
  @IsInt()
  @Min(1)
  EXTRACTION_MAX_ROWS: number = 10_000_000;

  /** Largest XLSX file extracted, in bytes (its parser holds shared strings in memory); bigger ones fail the job. */
  @IsInt()
  @Min(1024)
  EXTRACTION_XLSX_MAX_BYTES: number = 50 * 1024 * 1024;

  /** Most columns of one extracted table (Postgres allows 1600). */
  @IsInt()
  @Min(1)
  @Max(1600)
  EXTRACTION_MAX_COLUMNS: number = 1000;
}
