import { Injectable, Logger } from '@nestjs/common';
import { type CustomTypesConfig, type FieldDef, types as pgTypes } from 'pg';
import Cursor from 'pg-cursor';
import { DataConfig } from '../../core/config/data.config';
import { QueryTimeoutException } from './data.exceptions';
import { SandboxPools } from './sandbox-pools';
import { SandboxRoleRepository } from './sandbox-roles.repository';

/** Rows asked for in the first round trip; later batches are sized to what the byte budget has left. */
const FIRST_BATCH = 500;
const MAX_BATCH = 2000;
/** The server's statement_timeout normally ends a query first; this is the wall behind it. */
const DEADLINE_GRACE_MS = 250;

const raw = (value: string) => value;
const parserOf = pgTypes.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown;
/** Arrays of these parse as text[] does: elements stay as Postgres writes them. */
const textArray = parserOf(1009, 'text');
/** `2024-05-01 10:00:00.123456+00` (the session runs in UTC) -> `2024-05-01T10:00:00.123456Z`. */
const isoTimestamp = (value: string) => value.replace(' ', 'T').replace(/\+00$/, 'Z');

/**
 * How result values become JSON. Exact values stay exact: numeric and money as strings, bigint as a number
 * only while it is a safe integer. Dates and times as Postgres writes them (no time-zone shift through a JS
 * Date), timestamps as ISO-8601, bytea as `\x...` hex, intervals as text; everything else as node-postgres parses it.
 */
const PARSERS: Record<number, (value: string) => unknown> = {
  20: (value) => (Number.isSafeInteger(Number(value)) ? Number(value) : value),
  1700: raw,
  790: raw,
  1082: raw,
  1083: raw,
  1266: raw,
  1114: isoTimestamp,
  1184: isoTimestamp,
  1186: raw,
  17: raw,
  1003: textArray,
  1182: textArray,
  1115: textArray,
  1185: textArray,
  1231: textArray,
  1187: textArray,
};

const RESULT_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number) =>
    PARSERS[oid] ?? parserOf(oid, 'text')) as CustomTypesConfig['getTypeParser'],
};

export interface RunLimits {
  maxRows: number;
  maxBytes: number;
  signal?: AbortSignal;
}

export interface RunOutput {
  fields: FieldDef[];
  rows: unknown[][];
  truncated: false | 'rows' | 'bytes';
}

const abortReason = (signal?: AbortSignal): Error =>
  signal?.reason instanceof Error ? signal.reason : new Error('query aborted');

/** The cursor's row description, which arrives before any row (pg-cursor keeps it on its result). */
type CursorInternals = { _result?: { fields?: FieldDef[] } };

function read(cursor: Cursor<unknown[]>, rows: number): Promise<{ rows: unknown[][]; fields?: FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(rows, (error, batch, result) =>
      error ? reject(error) : resolve({ rows: batch, fields: result?.fields }),
    );
  });
}

/**
 * Runs one checked statement through a cursor on a sandbox connection: at most `maxRows` rows and about
 * `maxBytes` of JSON are kept, the rest never leaves the server (the portal is closed). Whatever happens, the
 * query ends by DATA_QUERY_TIMEOUT_MS: the role's statement_timeout, and behind it a deadline that terminates
 * the session (a cursor's batches each restart the server's timer). The bytes read off the socket are bounded
 * too, so one enormous row cannot grow this process's memory.
 */
@Injectable()
export class SandboxRunner {
  private readonly logger = new Logger('DataSandbox');

  constructor(
    private readonly pools: SandboxPools,
    private readonly roles: SandboxRoleRepository,
    private readonly config: DataConfig,
  ) {}

  async run(tenantId: string, sql: string, params: unknown[], limits: RunLimits): Promise<RunOutput> {
    if (limits.signal?.aborted) throw abortReason(limits.signal);
    const lease = await this.pools.acquire(tenantId, limits.signal);
    const { client } = lease;
    const stream = client.connection.stream;
    let stopped: 'timeout' | 'aborted' | 'bytes' | undefined;
    let halt: () => void = () => undefined;
    // A destroyed connection never answers the portal's Close: waiting for that must end when the session does.
    const halted = new Promise<void>((resolve) => (halt = resolve));
    const stop = (why: NonNullable<typeof stopped>) => {
      if (stopped) return;
      stopped = why;
      halt();
      const pid = (client as unknown as { processID: number | null }).processID;
      if (pid) {
        this.roles
          .terminate(tenantId, pid)
          .catch((error: Error) =>
            this.logger.warn(`terminating sandbox session ${pid} failed: ${error.message}`),
          );
      }
      stream.destroy();
    };
    const deadline = setTimeout(() => stop('timeout'), this.config.DATA_QUERY_TIMEOUT_MS + DEADLINE_GRACE_MS);
    const onAbort = () => stop('aborted');
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    // Postgres's wire format is close to the JSON size; twice the cap plus a margin is never a legitimate read.
    const wireCap = limits.maxBytes * 2 + 1024 * 1024;
    let wireBytes = 0;
    const onData = (chunk: Buffer) => {
      wireBytes += chunk.length;
      if (wireBytes > wireCap) return stop('bytes');
      // Ahead of pg's own listener: what the chunk's messages make the cursor send goes out as one write.
      stream.cork();
      process.nextTick(() => stream.uncork());
    };
    stream.prependListener('data', onData);

    // pg-cursor writes each protocol message on its own (Parse, Bind, Describe, Execute, Flush; Close and Sync
    // once the portal is done), and on this kind of machine a socket write costs about as much as the query.
    // Corked until the end of the tick, each burst leaves as one write: the first read's with the submit.
    stream.cork();
    process.nextTick(() => stream.uncork());
    const cursor = client.query(
      new Cursor<unknown[]>(sql, params, { rowMode: 'array', types: RESULT_TYPES }),
    );
    const rows: unknown[][] = [];
    let fields: FieldDef[] | undefined;
    let bytes = 2;
    let truncated: RunOutput['truncated'] = false;
    let finished: boolean;
    try {
      let batch = Math.min(limits.maxRows + 1, FIRST_BATCH);
      for (;;) {
        const got = await read(cursor, batch);
        fields ??= got.fields;
        for (const row of got.rows) {
          if (rows.length >= limits.maxRows) {
            truncated = 'rows';
            break;
          }
          const size = JSON.stringify(row).length + 1;
          if (bytes + size > limits.maxBytes) {
            truncated = 'bytes';
            break;
          }
          bytes += size;
          rows.push(row);
        }
        finished = got.rows.length < batch;
        if (truncated || finished) break;
        const perRow = bytes / Math.max(rows.length, 1);
        const affordable = Math.floor((limits.maxBytes - bytes) / perRow) + 1;
        batch = Math.max(1, Math.min(affordable, limits.maxRows - rows.length + 1, MAX_BATCH));
      }
      // A cursor that ran to its end has closed its portal already; one cut short closes it now.
      if (!finished || truncated) await Promise.race([cursor.close(), halted]);
      if (stopped) throw new Error(`sandbox session stopped (${stopped})`);
    } catch (error) {
      if (stopped === 'timeout') throw new QueryTimeoutException(this.config.DATA_QUERY_TIMEOUT_MS);
      if (stopped === 'aborted') throw abortReason(limits.signal);
      if (stopped === 'bytes') truncated = 'bytes';
      else throw error;
    } finally {
      clearTimeout(deadline);
      limits.signal?.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      lease.release(stopped !== undefined);
    }
    fields ??= (cursor as unknown as CursorInternals)._result?.fields ?? [];
    return { fields, rows, truncated };
  }
}
