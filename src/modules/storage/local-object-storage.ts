import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import {
  access,
  type FileHandle,
  lstat,
  mkdir,
  open,
  opendir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@nestjs/common';
import { type ObjectKey, RESERVED_PREFIX } from './object-key';
import {
  type BucketUsage,
  ObjectNotFoundError,
  ObjectPathConflictError,
  type ObjectRead,
  type ObjectStat,
  ObjectStorage,
  type PutOptions,
  type SignOptions,
  type StoredObject,
} from './object-storage';
import type { StorageUrlSigner } from './url-signer';
import { COPY_CHUNK, metered, scavenging } from './metered';

const TEMP_PREFIX = `${RESERVED_PREFIX}tmp-`;
const META_PREFIX = `${RESERVED_PREFIX}meta.`;

/** What the sidecar remembers of a write, bound to the exact file it describes. */
interface Sidecar {
  sha256: string;
  size: number;
  content_type?: string;
  ino: string;
  mtime_ns: string;
}

const isCode = (error: unknown, ...codes: string[]) =>
  codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');

/**
 * Objects as files under STORAGE_DIR: `<root>/<tenant>/<bucket>/<path>`. A write streams into a temporary
 * file in the target's own directory, is fsynced and renamed into place (rename is atomic within a
 * filesystem), so a reader sees the old object or the new one and a killed writer leaves only a temporary
 * file, which nothing lists or serves and the start-up sweep removes. The SHA-256 and content type of a write
 * go in a sidecar file bound to the object's inode, size and mtime, so a stale sidecar is never believed.
 */
export class LocalObjectStorage extends ObjectStorage {
  readonly kind = 'local';
  readonly root: string;
  private readonly logger = new Logger('Storage');

  constructor(
    dir: string,
    private readonly signer?: StorageUrlSigner,
    private readonly publicUrl?: string,
  ) {
    super();
    this.root = path.resolve(dir);
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async put(key: ObjectKey, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const file = this.fileOf(key);
    const dir = path.dirname(file);
    const meter = metered(options.maxBytes);
    const temp = await this.createTemp(key, dir);
    let identity: { ino: bigint; mtimeNs: bigint };
    try {
      // flush: fsync before close, so what is renamed into place is on disk.
      const out = createWriteStream(temp, { flags: 'r+', flush: true, highWaterMark: COPY_CHUNK });
      await pipeline(body, meter.stream, out);
      const st = await stat(temp, { bigint: true });
      identity = { ino: st.ino, mtimeNs: st.mtimeNs };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const size = meter.size();
    const sha256 = meter.sha256();
    // The sidecar first: once the object is visible, so is what describes it.
    await this.writeSidecar(file, {
      sha256,
      size,
      ...(options.contentType ? { content_type: options.contentType } : {}),
      ino: String(identity.ino),
      mtime_ns: String(identity.mtimeNs),
    }).catch((error: Error) => this.logger.warn(`no sidecar for ${key.toString()}: ${error.message}`));
    try {
      await this.moveIntoPlace(key, temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      await rm(sidecarOf(file), { force: true });
      throw error;
    }
    await syncDir(dir);
    return { size, sha256, etag: sha256 };
  }

  async get(key: ObjectKey): Promise<ObjectRead> {
    const file = this.fileOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR')) throw new ObjectNotFoundError(key);
      throw error;
    }
    try {
      // The open handle pins this version: a concurrent replace or delete does not change what streams out.
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw new ObjectNotFoundError(key);
      const info = await this.describe(file, st);
      return {
        ...info,
        stream: scavenging(handle.createReadStream({ autoClose: true, highWaterMark: COPY_CHUNK })),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(key: ObjectKey): Promise<ObjectStat | undefined> {
    const file = this.fileOf(key);
    try {
      const st = await lstat(file, { bigint: true });
      return st.isFile() ? await this.describe(file, st) : undefined;
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async delete(key: ObjectKey): Promise<boolean> {
    const file = this.fileOf(key);
    try {
      if (!(await lstat(file)).isFile()) return false;
      await unlink(file);
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return false;
      throw error;
    }
    await rm(sidecarOf(file), { force: true });
    await this.pruneEmptyDirs(path.dirname(file), path.join(this.root, key.tenantId));
    return true;
  }

  async usage(tenantId: string): Promise<BucketUsage[]> {
    const tenantDir = this.tenantDir(tenantId);
    let buckets: string[];
    try {
      buckets = (await readDirents(tenantDir)).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return [];
      throw error;
    }
    const usage: BucketUsage[] = [];
    for (const name of buckets.sort()) {
      let objects = 0;
      let bytes = 0;
      for await (const file of walkObjects(path.join(tenantDir, name))) {
        objects += 1;
        bytes += file.size;
      }
      if (objects > 0) usage.push({ name, objects, bytes });
    }
    return usage;
  }

  async signedUrl(key: ObjectKey, options: SignOptions): Promise<string> {
    if (!this.signer) throw new Error('local signed URLs are issued by the API process');
    const expires = Math.floor(options.signedAt.getTime() / 1000) + options.expiresIn;
    return this.signer.url(this.publicUrl ?? options.origin, {
      method: options.method,
      key,
      expires,
      actor: options.actor,
    });
  }

  async ping(): Promise<void> {
    if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  /**
   * Removes what killed writers left: temporary files older than `olderThanMs` (an upload in progress keeps
   * writing its file, so its mtime stays recent) and sidecars whose object is gone. Returns how many.
   */
  async sweep(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    const dirs = [this.root];
    for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
      let entries;
      try {
        entries = await readDirents(dir);
      } catch {
        continue;
      }
      const names = new Set(entries.map((d) => d.name));
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) dirs.push(full);
        else if (entry.name.startsWith(TEMP_PREFIX)) {
          const st = await lstat(full).catch(() => undefined);
          if (st && st.mtimeMs < cutoff) removed += await rm(full, { force: true }).then(() => 1);
        } else if (entry.name.startsWith(META_PREFIX) && !names.has(entry.name.slice(META_PREFIX.length))) {
          removed += await rm(full, { force: true }).then(() => 1);
        }
      }
    }
    return removed;
  }

  /** `<root>/<tenant>/<bucket>/<path>`; ObjectKey already refused anything that could climb out. */
  fileOf(key: ObjectKey): string {
    const file = path.join(this.root, key.tenantId, ...key.segments);
    if (!file.startsWith(this.tenantDir(key.tenantId) + path.sep)) throw new Error('key escapes its tenant');
    return file;
  }

  private tenantDir(tenantId: string): string {
    return path.join(this.root, tenantId);
  }

  /**
   * A new, empty temporary file beside the target (its presence keeps a concurrent delete from pruning the
   * directory); retried when such a delete pruned it just before.
   */
  private async createTemp(key: ObjectKey, dir: string): Promise<string> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (error) {
        if (isCode(error, 'ENOTDIR', 'EEXIST')) throw new ObjectPathConflictError(key);
        throw error;
      }
      const file = path.join(dir, `${TEMP_PREFIX}${randomUUID()}`);
      try {
        await (await open(file, 'wx', 0o640)).close();
        return file;
      } catch (error) {
        if (!isCode(error, 'ENOENT') || attempt >= 3) throw error;
      }
    }
  }

  private async moveIntoPlace(key: ObjectKey, temp: string, file: string): Promise<void> {
    try {
      await rename(temp, file);
    } catch (error) {
      if (!isCode(error, 'EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR')) throw error;
      // A folder where the object goes: fine if it is an empty leftover, a conflict if it holds objects.
      try {
        await rmdir(file);
      } catch {
        throw new ObjectPathConflictError(key);
      }
      await rename(temp, file);
    }
  }

  private async writeSidecar(file: string, sidecar: Sidecar): Promise<void> {
    const temp = path.join(path.dirname(file), `${TEMP_PREFIX}${randomUUID()}`);
    try {
      await writeFile(temp, JSON.stringify(sidecar), { flag: 'wx', mode: 0o640 });
      await rename(temp, sidecarOf(file));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async describe(
    file: string,
    st: { ino: bigint; size: bigint; mtimeNs: bigint; mtimeMs: bigint },
  ): Promise<ObjectStat> {
    const sidecar = await readFile(sidecarOf(file), 'utf8')
      .then((text) => JSON.parse(text) as Sidecar)
      .catch(() => undefined);
    const current =
      sidecar !== undefined &&
      sidecar.ino === String(st.ino) &&
      sidecar.mtime_ns === String(st.mtimeNs) &&
      sidecar.size === Number(st.size);
    return {
      size: Number(st.size),
      modified: new Date(Number(st.mtimeMs)),
      etag: current
        ? sidecar.sha256
        : `${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}`,
      ...(current && sidecar.content_type ? { contentType: sidecar.content_type } : {}),
      ...(current ? { sha256: sidecar.sha256 } : {}),
    };
  }

  /** Empty folders a delete leaves behind go too (as prefixes do in S3), up to the tenant's folder. */
  private async pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
    for (let current = dir; current.startsWith(stopAt + path.sep); current = path.dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }
}

function sidecarOf(file: string): string {
  return path.join(path.dirname(file), `${META_PREFIX}${path.basename(file)}`);
}

async function readDirents(dir: string) {
  const entries = [];
  for await (const entry of await opendir(dir)) entries.push(entry);
  return entries;
}

/** Every object file below `dir` (not the store's own temporary and sidecar files, not symlinks). */
async function* walkObjects(dir: string): AsyncGenerator<{ file: string; size: number }> {
  const dirs = [dir];
  for (let current = dirs.pop(); current !== undefined; current = dirs.pop()) {
    for await (const entry of await opendir(current)) {
      if (entry.name.startsWith(RESERVED_PREFIX)) continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) dirs.push(full);
      else if (entry.isFile()) {
        const st = await lstat(full).catch(() => undefined);
        if (st?.isFile()) yield { file: full, size: st.size };
      }
    }
  }
}

/** So the rename survives a power cut, not only a crash. Best effort: not every filesystem allows it. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
