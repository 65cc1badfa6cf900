import { TENANT_ID_PATTERN } from '../../core/auth/principal';

/** S3's own limit on a key, in UTF-8 bytes; the tenant prefix counts. */
export const MAX_KEY_BYTES = 1024;
/** Per segment, leaving room under the usual 255-byte file-name limit for the local store's sidecar names. */
export const MAX_SEGMENT_BYTES = 200;
/** Names the local store keeps for itself (temporary files, metadata sidecars); never a client's. */
export const RESERVED_PREFIX = '.conflux-';
const BUCKET = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a client's path was refused; the service turns it into a 400 naming the field. */
export class InvalidObjectPath extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'InvalidObjectPath';
  }
}

/**
 * An object's key, `<tenant_id>/<bucket>/<path>`. The only way to make one is from a tenant id (which callers
 * take from the credential) and a client path checked here, so every store operation is tenant-scoped by
 * construction and a path can never climb out of its tenant: no `..` or `.` segments, no absolute paths, no
 * backslashes, no NUL or other control characters, no empty segments, nothing over-long.
 */
export class ObjectKey {
  private constructor(
    readonly tenantId: string,
    readonly bucket: string,
    /** The path inside the bucket (`reports/2025/q1.csv`). */
    readonly name: string,
  ) {}

  /** `bucket/name`: the path as the tenant sees it. */
  get path(): string {
    return `${this.bucket}/${this.name}`;
  }

  /** The key in the store: `<tenant_id>/<bucket>/<name>`. */
  toString(): string {
    return `${this.tenantId}/${this.path}`;
  }

  /** The path's segments after the tenant, for building a file path or a URL. */
  get segments(): string[] {
    return this.path.split('/');
  }

  /** A client's `<bucket>/<path>` within `tenantId`. Throws InvalidObjectPath before any I/O. */
  static of(tenantId: string, path: string): ObjectKey {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new InvalidObjectPath(path, 'invalid tenant id');
    const problem = pathProblem(path);
    if (problem) throw new InvalidObjectPath(path, problem);
    if (Buffer.byteLength(`${tenantId}/${path}`) > MAX_KEY_BYTES) {
      throw new InvalidObjectPath(path, `path is too long: a key is at most ${MAX_KEY_BYTES} bytes`);
    }
    const slash = path.indexOf('/');
    return new ObjectKey(tenantId, path.slice(0, slash), path.slice(slash + 1));
  }

  /** A full key `<tenant_id>/<bucket>/<path>`, as a signed URL names it. */
  static parse(key: string): ObjectKey {
    const slash = key.indexOf('/');
    if (slash < 0) throw new InvalidObjectPath(key, 'key must be <tenant_id>/<bucket>/<path>');
    return ObjectKey.of(key.slice(0, slash), key.slice(slash + 1));
  }
}

/** The first thing wrong with a client's path, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'path must not be empty';
  // A lone surrogate does not survive UTF-8 (it becomes U+FFFD), so the key would not be the one asked for.
  if (Buffer.from(path).toString() !== path) return 'path is not valid Unicode';
  if (path.includes('\0')) return 'path must not contain NUL';
  if (CONTROL.test(path)) return 'path must not contain control characters';
  if (path.includes('\\')) return 'path must not contain backslashes';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path))
    return 'path must be relative (<bucket>/<path>), not absolute';
  if (Buffer.byteLength(path) > MAX_KEY_BYTES)
    return `path is too long: a key is at most ${MAX_KEY_BYTES} bytes`;
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '') return 'path must not contain empty segments (a leading, trailing or double slash)';
    if (segment === '.' || segment === '..') return "path must not contain '.' or '..' segments";
    if (segment.startsWith(RESERVED_PREFIX)) return `path segments must not start with '${RESERVED_PREFIX}'`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      return `path segments are at most ${MAX_SEGMENT_BYTES} bytes`;
    }
  }
  if (segments.length < 2) return 'path must be <bucket>/<path>, e.g. uploads/report.csv';
  if (!BUCKET.test(segments[0])) {
    return 'bucket (the first segment) must be 1-63 letters, digits, dots, dashes or underscores';
  }
  return undefined;
}
