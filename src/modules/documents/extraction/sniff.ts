import { detectEncoding, decodeHead } from './decode';

export type Modality = 'tabular' | 'text' | 'image' | 'pdf' | 'other';

/** What the bytes are, judged from the bytes alone (never the filename or the client's Content-Type). */
export interface DetectedType {
  /** `csv`, `tsv`, `json`, `xlsx`, `pdf`, `png`, `text`, `binary`, `elf`, `zip`, ... */
  type: string;
  contentType: string;
  modality: Modality;
  /** Refused at upload (415): executables, and archives other than XLSX. */
  refused: boolean;
}

/** How many leading bytes the sniffer looks at. */
export const SNIFF_BYTES = 64 * 1024;

const kind = (type: string, contentType: string, modality: Modality, refused = false): DetectedType => ({
  type,
  contentType,
  modality,
  refused,
});

const startsWith = (head: Buffer, ...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);
const ascii = (head: Buffer, at: number, text: string) =>
  head.subarray(at, at + text.length).toString('latin1') === text;

/** Types with a signature, checked in order; executables and archives are refused. */
const MAGIC: Array<[(head: Buffer) => boolean, DetectedType]> = [
  [(h) => startsWith(h, 0x7f, 0x45, 0x4c, 0x46), kind('elf', 'application/x-elf', 'other', true)],
  [(h) => ascii(h, 0, 'MZ'), kind('exe', 'application/vnd.microsoft.portable-executable', 'other', true)],
  [
    (h) =>
      [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(
        h.length >= 4 ? h.readUInt32BE(0) : -1,
      ),
    kind('macho', 'application/x-mach-binary', 'other', true),
  ],
  [(h) => ascii(h, 0, '#!'), kind('script', 'text/x-shellscript', 'other', true)],
  [(h) => startsWith(h, 0x00, 0x61, 0x73, 0x6d), kind('wasm', 'application/wasm', 'other', true)],
  [(h) => ascii(h, 0, '%PDF-'), kind('pdf', 'application/pdf', 'pdf')],
  [(h) => startsWith(h, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), kind('png', 'image/png', 'image')],
  [(h) => startsWith(h, 0xff, 0xd8, 0xff), kind('jpeg', 'image/jpeg', 'image')],
  [(h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a'), kind('gif', 'image/gif', 'image')],
  [(h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP'), kind('webp', 'image/webp', 'image')],
  [(h) => ascii(h, 0, 'BM') && h.length > 14 && h.readUInt32LE(2) > 14, kind('bmp', 'image/bmp', 'image')],
  [
    (h) => startsWith(h, 0x49, 0x49, 0x2a, 0x00) || startsWith(h, 0x4d, 0x4d, 0x00, 0x2a),
    kind('tiff', 'image/tiff', 'image'),
  ],
  [(h) => startsWith(h, 0x1f, 0x8b), kind('gzip', 'application/gzip', 'other', true)],
  [(h) => ascii(h, 0, 'BZh'), kind('bzip2', 'application/x-bzip2', 'other', true)],
  [(h) => startsWith(h, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00), kind('xz', 'application/x-xz', 'other', true)],
  [
    (h) => startsWith(h, 0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c),
    kind('7z', 'application/x-7z-compressed', 'other', true),
  ],
  [(h) => ascii(h, 0, 'Rar!'), kind('rar', 'application/vnd.rar', 'other', true)],
  [(h) => startsWith(h, 0x28, 0xb5, 0x2f, 0xfd), kind('zstd', 'application/zstd', 'other', true)],
  [(h) => ascii(h, 257, 'ustar'), kind('tar', 'application/x-tar', 'other', true)],
];

export const XLSX = kind(
  'xlsx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'tabular',
);
const ZIP = kind('zip', 'application/zip', 'other', true);

/**
 * The type of a file from its first bytes (`complete`: the head is the whole file). ZIP containers are XLSX when
 * their entry names in the head name a workbook part (`xl/`), else refused as archives. CSV, TSV and JSON have no signature: the
 * decoded text is sniffed (a JSON array or object; lines with a consistent delimiter count).
 */
export function sniff(head: Buffer, complete: boolean): DetectedType {
  if (startsWith(head, 0x50, 0x4b, 0x03, 0x04) || startsWith(head, 0x50, 0x4b, 0x05, 0x06)) {
    return head.toString('latin1').includes('xl/') ? XLSX : ZIP;
  }
  for (const [test, detected] of MAGIC) if (test(head)) return detected;
  const encoding = detectEncoding(head);
  if (!encoding) return kind('binary', 'application/octet-stream', 'other');
  const text = decodeHead(head, encoding, complete);
  if (looksLikeJson(text, complete)) return kind('json', 'application/json', 'tabular');
  const delimiter = sniffDelimiter(text, complete);
  if (delimiter === '\t') return kind('tsv', 'text/tab-separated-values', 'tabular');
  if (delimiter) return kind('csv', 'text/csv', 'tabular');
  return kind('text', 'text/plain', 'text');
}

function looksLikeJson(text: string, complete: boolean): boolean {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return false;
  if (!complete) return /^[[{]\s*("|\{|\[|\]|\}|-?\d|true|false|null)/.test(trimmed);
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

const DELIMITERS = [',', ';', '\t', '|'];

/**
 * The delimiter that splits the head's lines most consistently, ignoring quoted text: its most common non-zero
 * count per line must hold on 60% of the lines (a preamble line or two is fine), or nearly every line must hold
 * it (ragged rows are fine). Undefined when none does (plain text, or a single column).
 */
export function sniffDelimiter(text: string, complete = true): string | undefined {
  const lines = logicalLines(text, complete).slice(0, 50);
  if (lines.length === 0) return undefined;
  let best: { delimiter: string; score: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const counts = lines.map((line) => countOutsideQuotes(line, delimiter));
    const frequency = new Map<number, number>();
    for (const count of counts) if (count > 0) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    if (frequency.size === 0) continue;
    const [mode, agreeing] = [...frequency].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0];
    const holding = counts.filter((count) => count > 0).length;
    if (agreeing / lines.length < 0.6 && holding / lines.length < 0.9) continue;
    const score = agreeing * 1000 + mode;
    if (!best || score > best.score) best = { delimiter, score };
  }
  return best?.delimiter;
}

/** Lines of the head, quoted newlines kept inside their line; an incomplete head's last (cut) line dropped. */
function logicalLines(text: string, complete: boolean): string[] {
  const lines: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if ((char === '\n' || char === '\r') && !quoted) {
      if (current.trim() !== '') lines.push(current);
      current = '';
    } else current += char;
  }
  if (complete && current.trim() !== '') lines.push(current);
  return lines;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count += 1;
  }
  return count;
}
