import { hostname } from 'node:os';

/** Where stored lines go once the app is up (the local log store's Redis stream). */
export type StoredLinesWriter = (lines: string[]) => Promise<void>;

/** Lines held while no writer is attached (boot) or while one write is in flight; beyond it the oldest go. */
const MAX_PENDING = 5000;
/** Lines are gathered for this long before a write, so a busy process makes a few writes a second, not one a request. */
const FLUSH_EVERY_MS = 50;
const KEPT_LEVELS = new Set(['warn', 'error', 'fatal']);
/** A longer line is stored as its fixed fields only (`truncated: true`): the store is capped in lines, not bytes. */
export const MAX_STORED_LINE = 16 * 1024;
const FIXED_FIELDS = ['level', 'time', 'msg', 'request_id', 'tenant_id', 'context', 'run_id', 'event'];

/**
 * A second pino destination next to stdout: the lines the local log store keeps (warn and above, and every
 * line that carries a `request_id`: request lines and what a request caused in the API and the workers). pino
 * serialises a line once, after redaction (REDACTED_PATHS), so this sees exactly what stdout sees. Lines wait in a
 * bounded buffer for the app to attach its writer and are written in batches; a failed write drops its batch
 * (never a retry loop that would itself log).
 */
export class LogStoreSink {
  private pending: string[] = [];
  private writer?: StoredLinesWriter;
  private scheduled = false;
  private inFlight?: Promise<void>;
  /** `api:<host>:<pid>` or `worker:<host>:<pid>`: the `process` field of every stored line. */
  readonly process: string;

  constructor(role: 'api' | 'worker') {
    this.process = `${role}:${hostname()}:${process.pid}`;
  }

  /** pino's destination interface: one serialised JSON line per call. */
  write(line: string): boolean {
    if (!keeps(line)) return true;
    const bounded = line.length > MAX_STORED_LINE ? shortened(line) : line.trimEnd();
    this.pending.push(`${bounded.slice(0, -1)},"process":${JSON.stringify(this.process)}}`);
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    this.schedule();
    return true;
  }

  attach(writer: StoredLinesWriter): void {
    this.writer = writer;
    this.schedule();
  }

  /** Writes what is pending, then stops writing (the app is closing). */
  async detach(): Promise<void> {
    await this.inFlight;
    await this.flush();
    this.writer = undefined;
  }

  private schedule(): void {
    if (this.scheduled || !this.writer) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.flush();
    }, FLUSH_EVERY_MS).unref();
  }

  private async flush(): Promise<void> {
    if (this.inFlight || !this.writer || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight = this.writer(batch)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    await this.inFlight;
  }
}

function shortened(line: string): string {
  const full = JSON.parse(line) as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const field of FIXED_FIELDS)
    if (full[field] !== undefined)
      kept[field] = typeof full[field] === 'string' ? full[field].slice(0, 1000) : full[field];
  return JSON.stringify({ ...kept, truncated: true });
}

function keeps(line: string): boolean {
  if (line.includes('"request_id":"')) return true;
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  return level !== undefined && KEPT_LEVELS.has(level);
}
