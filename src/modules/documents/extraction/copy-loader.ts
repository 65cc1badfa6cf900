import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../../data/sandbox-settings';
import { type Cell, type ColumnType, fits } from './column-types';
import { ExtractionError, type RecordBatch } from './source';

export interface LoadedColumn {
  name: string;
  type: ColumnType;
}

/** A value that does not fit the type chosen from the sample: the job is run again with that column as text. */
export class ColumnMismatch extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    /** Where the value is (`line 12`). */
    readonly where: string,
  ) {
    super(`a value of ${table}.${column} does not fit its inferred type`);
    this.name = 'ColumnMismatch';
  }
}

/** COPY text chunks this large are handed to the connection (fewer, larger writes). */
const CHUNK_CHARS = 64 * 1024;
const SPECIAL = /[\\\n\r\t\0]/;

function escape(text: string, where: () => string): string {
  if (!SPECIAL.test(text)) return text;
  if (text.includes('\0'))
    throw new ExtractionError('bad_value', `${where()}: a value holds a NUL character`);
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

function jsonText(cell: Exclude<Cell, null>): string {
  if (typeof cell !== 'string') return JSON.stringify(cell.json);
  try {
    JSON.parse(cell);
    return cell;
  } catch {
    return JSON.stringify(cell);
  }
}

/**
 * Creates `<schema>.<table>` and streams `rows` into it with `COPY FROM STDIN` (text format) on `client`, in the
 * transaction the client is in: a failure (or a killed worker) leaves no table. Values are checked against their
 * column's type as they pass, so one that does not fit is a ColumnMismatch, never a half-loaded COPY error.
 * A table of the same name (this job's own, from an earlier attempt) is replaced.
 */
export async function loadTable(
  client: PoolClient,
  target: { schema: string; table: string; readerRole: string },
  columns: LoadedColumn[],
  batches: AsyncIterable<RecordBatch>,
): Promise<number> {
  const qualified = `${quoteIdent(target.schema)}.${quoteIdent(target.table)}`;
  await client.query(`DROP TABLE IF EXISTS ${qualified}`);
  await client.query(
    `CREATE TABLE ${qualified} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
  );
  await client.query(`GRANT SELECT ON ${qualified} TO ${quoteIdent(target.readerRole)}`);
  let count = 0;
  async function* chunks(): AsyncGenerator<string> {
    let chunk = '';
    for await (const { rows, where } of batches) {
      for (let r = 0; r < rows.length; r += 1) {
        const row = rows[r];
        const here = () => where(r);
        let line = '';
        for (let i = 0; i < columns.length; i += 1) {
          const cell = row[i];
          const column = columns[i];
          if (i > 0) line += '\t';
          if (cell === null || cell === undefined) {
            line += '\\N';
            continue;
          }
          if (!fits(column.type, cell)) throw new ColumnMismatch(target.table, column.name, here());
          if (column.type === 'jsonb') line += escape(jsonText(cell), here);
          else line += escape(typeof cell === 'string' ? cell : JSON.stringify(cell.json), here);
        }
        chunk += `${line}\n`;
      }
      count += rows.length;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const copy = client.query(
    copyFrom(`COPY ${qualified} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`),
  );
  await pipeline(Readable.from(chunks()), copy);
  return count;
}
