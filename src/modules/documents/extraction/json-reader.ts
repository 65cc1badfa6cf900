import { pipeline } from 'node:stream';
import type { Cell } from './column-types';
import { decoder } from './decode';
import { ExtractionError, type OpenBytes, type SheetSource } from './source';

/** Records per batch handed on. */
const BATCH_ROWS = 256;

/** One element's largest size (its text): a huge or unterminated element fails the job instead of growing memory. */
const MAX_ELEMENT_CHARS = 16 * 1024 * 1024;

/**
 * The elements of a top-level JSON array, each parsed on its own as the text streams by (the whole array is
 * never held). Strings, depth and escapes are tracked so that commas and brackets inside values do not split.
 */
export async function* arrayElements(text: AsyncIterable<string>): AsyncGenerator<unknown> {
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let index = 0;
  const emit = () => {
    const raw = element.trim();
    element = '';
    if (raw === '') return undefined;
    try {
      return { value: JSON.parse(raw) as unknown };
    } catch (error) {
      throw new ExtractionError(
        'malformed',
        `malformed JSON in element ${index + 1}: ${(error as Error).message}`,
      );
    }
  };
  for await (const chunk of text) {
    for (const char of chunk) {
      if (ended) {
        if (!/\s/.test(char))
          throw new ExtractionError('malformed', 'malformed JSON: text after the closing ]');
        continue;
      }
      if (!started) {
        if (/\s/.test(char) || char === '\uFEFF') continue;
        if (char !== '[') throw new ExtractionError('malformed', 'JSON must be an array of objects');
        started = true;
        continue;
      }
      if (inString) {
        element += char;
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
      } else if (char === '"') {
        inString = true;
        element += char;
      } else if (char === '{' || char === '[') {
        depth += 1;
        element += char;
      } else if ((char === '}' || char === ']') && depth > 0) {
        depth -= 1;
        element += char;
      } else if (depth === 0 && (char === ',' || char === ']')) {
        const parsed = emit();
        if (parsed) {
          yield parsed.value;
          index += 1;
        } else if (char === ',' || index > 0) {
          throw new ExtractionError('malformed', `malformed JSON: an empty element after element ${index}`);
        }
        if (char === ']') ended = true;
      } else element += char;
      if (element.length > MAX_ELEMENT_CHARS) {
        throw new ExtractionError(
          'malformed',
          `JSON element ${index + 1} is larger than ${MAX_ELEMENT_CHARS} characters`,
        );
      }
    }
  }
  if (!started) throw new ExtractionError('empty', 'the JSON document is empty');
  if (!ended)
    throw new ExtractionError('malformed', `malformed JSON: the array is not closed after element ${index}`);
}

function decoded(bytes: NodeJS.ReadableStream, encoding: string): AsyncIterable<string> {
  return pipeline(bytes, decoder(encoding), () => undefined) as unknown as AsyncIterable<string>;
}

function objectAt(value: unknown, index: number): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExtractionError('malformed', `JSON element ${index + 1} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** Primitives as text (as CSV would carry them), nested objects and arrays as jsonb. */
function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return { json: value };
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A JSON array of objects as one sheet: a first pass collects every key (in first-seen order) so that no value
 * is dropped, a second streams the rows.
 */
export async function readJson(open: OpenBytes, options: { encoding: string }): Promise<SheetSource[]> {
  const keys = new Map<string, number>();
  let index = 0;
  for await (const value of arrayElements(decoded(await open(), options.encoding))) {
    for (const key of Object.keys(objectAt(value, index))) if (!keys.has(key)) keys.set(key, keys.size);
    index += 1;
  }
  const columns = [...keys.keys()];
  // Elements before the latest batch.
  let before = 0;
  async function* rows(): AsyncGenerator<Cell[][]> {
    let batch: Cell[][] = [];
    let read = 0;
    for await (const value of arrayElements(decoded(await open(), options.encoding))) {
      const object = objectAt(value, read);
      read += 1;
      batch.push(columns.map((key) => cellOf(object[key])));
      if (batch.length === BATCH_ROWS) {
        yield batch;
        before += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  return [{ columns, records: rows(), position: (i) => `element ${before + i + 1}` }];
}
