import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { Cell } from './column-types';
import { readCsv } from './csv-reader';

/** Reads `text` through readCsv, fed `chunk` bytes at a time: every record with the line it is reported at. */
async function read(text: string, chunk = 7, delimiter = ','): Promise<Array<{ row: Cell[]; at: string }>> {
  const bytes = Buffer.from(text, 'utf8');
  const open = async () =>
    Readable.from(
      Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) =>
        bytes.subarray(i * chunk, (i + 1) * chunk),
      ),
    );
  const [sheet] = await readCsv(open, { encoding: 'utf-8', delimiter, quote: '"' });
  const out: Array<{ row: Cell[]; at: string }> = [];
  for await (const batch of sheet.records)
    batch.forEach((row, i) => out.push({ row, at: sheet.position(i) }));
  return out;
}

describe('readCsv', () => {
  it('reads records across chunk boundaries, quoted delimiters, quotes and newlines included', async () => {
    const records = await read('a,b\n"x, y","say ""hi"""\n"two\nlines",3\nlast,4');
    expect(records).toEqual([
      { row: ['a', 'b'], at: 'line 1' },
      { row: ['x, y', 'say "hi"'], at: 'line 2' },
      { row: ['two\nlines', '3'], at: 'line 3' },
      // The quoted newline made the record before two lines long.
      { row: ['last', '4'], at: 'line 5' },
    ]);
  });

  it('takes CRLF line ends, skips empty lines (counting them) and reads empty values as null', async () => {
    const records = await read('a;b\r\n\r\n1;\r\n;2\r\n', 3, ';');
    expect(records).toEqual([
      { row: ['a', 'b'], at: 'line 1' },
      { row: ['1', null], at: 'line 3' },
      { row: [null, '2'], at: 'line 4' },
    ]);
  });

  it('fails an unterminated quote with the line its record starts on', async () => {
    await expect(read('a,b\n1,2\n3,"open\n4,5\n6,7\n')).rejects.toThrow(
      /malformed CSV in the record starting at line 3: Quoted field unterminated/,
    );
  });

  it('fails a closing quote followed by text with its line', async () => {
    await expect(read('a,b\n1,2\n"3"x,4\n5,6\n', 64)).rejects.toThrow(
      /record starting at line 3: Trailing quote on quoted field is malformed/,
    );
  });
});
