import { gunzipSync, gzipSync } from 'node:zlib';
import { Header, Pack, Parser, ReadEntry } from 'tar';
import { canonicalJson } from '../../core/http/canonical-json';
import { MAX_PACKAGE_WORKFLOWS, type WpkManifest } from './wpk-manifest';

/** What `manifest.json` says it is; an archive of another format is refused. */
export const WPK_FORMAT = 'conflux-wpk/1';

/** Bounds on what an archive may be or expand to (the zip-bomb and tar CVE classes stop here). */
export const ARCHIVE_LIMITS = {
  /** The gzip file itself. */
  compressedBytes: 8 * 1024 * 1024,
  /** The tar stream once gunzipped. */
  expandedBytes: 32 * 1024 * 1024,
  /** The manifest and one file per workflow. */
  entries: MAX_PACKAGE_WORKFLOWS + 1,
  /** Any one file. */
  entryBytes: 4 * 1024 * 1024,
};

/** Every entry carries this mtime, so the same manifest always packs to the same bytes. */
const MTIME = new Date(0);
const MANIFEST = 'manifest.json';

/** Why an artifact's bytes are not a package Conflux will read; nothing was extracted anywhere. */
export class UnsafeArchiveError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnsafeArchiveError';
  }
}

/**
 * A deterministic `.tar.gz` of the manifest: `manifest.json` (the package and its workflows' keys, names and
 * files) and `workflows/<key>.json` (definition and input_schema), as canonical JSON (sorted keys), entries in
 * path order, portable headers (no owner, no atime/ctime), a fixed mtime and mode. Built in memory.
 */
export async function packArchive(manifest: WpkManifest): Promise<Buffer> {
  const workflows = [...manifest.workflows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const files = new Map<string, string>();
  files.set(
    MANIFEST,
    canonicalJson({
      format: WPK_FORMAT,
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      workflows: workflows.map((w) => ({
        key: w.key,
        name: w.name,
        description: w.description,
        file: fileOf(w.key),
      })),
    }),
  );
  for (const w of workflows) {
    files.set(fileOf(w.key), canonicalJson({ definition: w.definition, input_schema: w.input_schema }));
  }
  const tar = await tarOf([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
  return gzipSync(tar, { level: 9 });
}

/**
 * Reads an artifact back into its manifest, in memory, refusing (UnsafeArchiveError) anything but the layout
 * packArchive writes: regular files only (no links, devices, directories), relative paths without `..`, `.`
 * or backslashes, no duplicates, sizes and counts within ARCHIVE_LIMITS, every file the manifest names and no
 * other. The result still has to pass manifestProblems.
 */
export async function unpackArchive(bytes: Buffer): Promise<unknown> {
  if (bytes.length > ARCHIVE_LIMITS.compressedBytes)
    throw new UnsafeArchiveError(`archive is larger than ${ARCHIVE_LIMITS.compressedBytes} bytes`);
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: ARCHIVE_LIMITS.expandedBytes });
  } catch (error) {
    throw new UnsafeArchiveError(
      error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        ? `archive expands to more than ${ARCHIVE_LIMITS.expandedBytes} bytes`
        : 'archive is not gzip-compressed',
    );
  }
  const files = await readEntries(tar);
  const manifestText = files.get(MANIFEST);
  if (manifestText === undefined) throw new UnsafeArchiveError(`archive has no ${MANIFEST}`);
  const manifest = parseJson(manifestText, MANIFEST) as Record<string, unknown>;
  if (manifest.format !== WPK_FORMAT)
    throw new UnsafeArchiveError(`${MANIFEST} is not of format ${WPK_FORMAT}`);
  const listed = Array.isArray(manifest.workflows) ? (manifest.workflows as unknown[]) : [];
  const used = new Set([MANIFEST]);
  const workflows = listed.map((item, i) => {
    const { file, ...entry } = (item ?? {}) as Record<string, unknown>;
    if (typeof entry.key !== 'string' || file !== fileOf(entry.key))
      throw new UnsafeArchiveError(`${MANIFEST}: workflows/${i} must name its file as workflows/<key>.json`);
    const text = files.get(file);
    if (text === undefined) throw new UnsafeArchiveError(`archive has no ${file}`);
    used.add(file);
    const body = parseJson(text, file) as Record<string, unknown>;
    return { ...entry, definition: body.definition, input_schema: body.input_schema };
  });
  const extra = [...files.keys()].filter((name) => !used.has(name));
  if (extra.length > 0)
    throw new UnsafeArchiveError(`archive holds files its manifest does not list: ${extra.join(', ')}`);
  const { format: _format, ...rest } = manifest;
  return { ...rest, workflows };
}

const fileOf = (key: string) => `workflows/${key}.json`;

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UnsafeArchiveError(`${name} is not valid JSON`);
  }
}

async function tarOf(files: Array<[string, string]>): Promise<Buffer> {
  const pack = new Pack({ portable: true, mtime: MTIME });
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const [path, text] of files) {
    const data = Buffer.from(text);
    const entry = new ReadEntry(
      new Header({ path, mode: 0o644, size: data.length, mtime: MTIME, type: 'File' }),
    );
    entry.end(data);
    pack.add(entry);
  }
  pack.end();
  await done;
  return Buffer.concat(chunks);
}

/** Every entry's text by path; the first problem aborts the parse. */
function readEntries(tar: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer[]>();
    let problem: UnsafeArchiveError | undefined;
    let expanded = 0;
    const parser = new Parser({ strict: true });
    const refuse = (reason: string) => {
      problem ??= new UnsafeArchiveError(reason);
      parser.abort(problem);
    };
    parser.on('entry', (entry: ReadEntry) => {
      const reason = entryProblem(entry, files);
      if (reason) {
        entry.resume();
        return refuse(reason);
      }
      const chunks: Buffer[] = [];
      files.set(entry.path, chunks);
      entry.on('data', (chunk: Buffer) => {
        expanded += chunk.length;
        if (expanded > ARCHIVE_LIMITS.expandedBytes) refuse('archive expands past its limit');
        else chunks.push(chunk);
      });
    });
    parser.on('ignoredEntry', (entry: ReadEntry) =>
      refuse(`entry '${entry.path}' (${entry.type}) is not a regular file`),
    );
    parser.on('error', (error: Error) =>
      reject(problem ?? new UnsafeArchiveError(`archive is not a valid tar: ${error.message}`)),
    );
    parser.on('end', () => {
      if (problem) return reject(problem);
      resolve(new Map([...files].map(([name, chunks]) => [name, Buffer.concat(chunks).toString('utf8')])));
    });
    parser.end(tar);
  });
}

function entryProblem(entry: ReadEntry, seen: Map<string, unknown>): string | undefined {
  const name = entry.path;
  if (seen.size >= ARCHIVE_LIMITS.entries) return `archive has more than ${ARCHIVE_LIMITS.entries} entries`;
  if (entry.type !== 'File' && entry.type !== 'OldFile')
    return `entry '${name}' is a ${entry.type}: only regular files are allowed`;
  if (name.length === 0 || name.includes('\0')) return 'entry with an empty or NUL-containing path';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return `entry '${name}' has an absolute path`;
  if (name.includes('\\')) return `entry '${name}' contains a backslash`;
  if (name.split('/').some((segment) => segment === '..' || segment === '.' || segment === ''))
    return `entry '${name}' has a '..', '.' or empty path segment`;
  if (seen.has(name)) return `entry '${name}' appears twice`;
  if (entry.size > ARCHIVE_LIMITS.entryBytes)
    return `entry '${name}' is larger than ${ARCHIVE_LIMITS.entryBytes} bytes`;
  return undefined;
}
