import chardet from 'chardet';
import iconv from 'iconv-lite';

/** Encodings a configuration may name (any other name iconv-lite knows works too). */
export const COMMON_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252', 'iso-8859-1'];

/** Single-byte guesses chardet cannot tell apart on a short sample: read as Windows-1252, the usual source. */
const SINGLE_BYTE = /^(ISO-8859-\d+|windows-125\d)$/i;

export function isKnownEncoding(name: string): boolean {
  return iconv.encodingExists(name);
}

/**
 * The text encoding of a file from its head: a BOM decides; else UTF-16 by its zero bytes, UTF-8 when the head
 * decodes strictly as UTF-8, else chardet's guess (single-byte guesses as Windows-1252). Undefined: binary.
 */
export function detectEncoding(head: Buffer): string | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const sample = head.subarray(0, 4096);
  const pairs = Math.floor(sample.length / 2);
  if (pairs >= 2) {
    let evenZero = 0;
    let oddZero = 0;
    for (let i = 0; i + 1 < sample.length; i += 2) {
      if (sample[i] === 0) evenZero += 1;
      if (sample[i + 1] === 0) oddZero += 1;
    }
    if (oddZero / pairs > 0.3 && evenZero / pairs < 0.05) return 'utf-16le';
    if (evenZero / pairs > 0.3 && oddZero / pairs < 0.05) return 'utf-16be';
  }
  if (sample.includes(0)) return undefined;
  if (validUtf8(head)) return 'utf-8';
  const guess = chardet.detect(head);
  if (!guess || SINGLE_BYTE.test(guess) || !iconv.encodingExists(guess)) return 'windows-1252';
  return guess.toLowerCase();
}

/** Strict UTF-8, allowing the head to end in the middle of a character. */
function validUtf8(head: Buffer): boolean {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** The head as text (a character cut at the end of an incomplete head is dropped), without a BOM. */
export function decodeHead(head: Buffer, encoding: string, complete: boolean): string {
  const text = iconv.decode(head, encoding);
  return complete ? text : text.replace(/\uFFFD$/, '');
}

/** A transform from bytes in `encoding` to text, decoding as it flows (a BOM is dropped). */
export function decoder(encoding: string): NodeJS.ReadWriteStream {
  return iconv.decodeStream(encoding);
}
