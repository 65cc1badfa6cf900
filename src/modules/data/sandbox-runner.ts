import { Injectable, Logger } from '@nestjs/common';
import pg, { type BindConfig, type Connection, type FieldDef, type Submittable } from 'pg';
import { DataConfig } from '../../core/config/data.config';
import { QueryTimeoutException } from './data.exceptions';
import { SandboxPools } from './sandbox-pools';
import { SandboxRoleRepository } from './sandbox-roles.repository';

/** The server's statement_timeout normally ends a query first; this is the wall behind it. */
const DEADLINE_GRACE_MS = 250;

const raw = (value: string) => value;
const parserOf = pg.types.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown;
/** Arrays of these parse as text[] does: elements stay as Postgres writes them. */
const textArray = parserOf(1009, 'text');
/** `2024-05-01 10:00:00.123456+00` (the session runs in UTC) -> `2024-05-01T10:00:00.123456Z`. */
const isoTimestamp = (value: string) => {
  const iso = value.replace(' ', 'T');
  return iso.endsWith('+00') ? `${iso.slice(0, -3)}Z` : iso;
};

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

/** How node-postgres itself turns a parameter into its wire text (arrays, JSON, dates, buffers). */
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils
  .prepareValue;

/**
 * One statement in one round trip: Parse, Bind, Describe, Execute of at most `maxRows + 1` rows and Sync leave in
 * one write. The server stops producing rows after that many (the portal is suspended, and Sync ends it), so a
 * `maxRows + 1`-th row says only that there were more. Rows are converted and kept while they fit the row and
 * byte caps; the rest are read off the socket unparsed (the runner's wire cap ends the session if that is a lot).
 * Settles once the server is ready for the next statement, so the connection can go back to its pool.
 */
class CappedQuery implements Submittable {
  readonly rows: unknown[][] = [];
  fields: FieldDef[] = [];
  truncated: RunOutput['truncated'] = false;
  readonly done: Promise<void>;
  private parsers: Array<(value: string) => unknown> = [];
  private bytes = 2;
  private error: Error | undefined;
  private settle!: (error?: Error) => void;
  private readonly values: BindConfig['values'];

  /** Converts the params here, so that one that cannot be sent fails before a connection is taken. */
  constructor(
    private readonly text: string,
    params: unknown[],
    private readonly limits: RunLimits,
  ) {
    this.values = params.map(prepareValue) as BindConfig['values'];
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve());
    });
  }

  submit(connection: Connection): void {
    connection.parse({ text: this.text, name: '', types: [] }, true);
    connection.bind({ values: this.values }, true);
    connection.describe({ type: 'P' }, true);
    connection.execute({ rows: String(this.limits.maxRows + 1) }, true);
    connection.sync();
  }

  handleRowDescription(message: { fields: FieldDef[] }): void {
    this.fields = message.fields;
    this.parsers = message.fields.map(
      ({ dataTypeID }) => PARSERS[dataTypeID] ?? parserOf(dataTypeID, 'text'),
    );
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    if (this.truncated || this.error) return;
    if (this.rows.length >= this.limits.maxRows) {
      this.truncated = 'rows';
      return;
    }
    try {
      const row = message.fields.map((value, i) => (value === null ? null : this.parsers[i](value)));
      const size = JSON.stringify(row).length + 1;
      if (this.bytes + size > this.limits.maxBytes) {
        this.truncated = 'bytes';
        return;
      }
      this.bytes += size;
      this.rows.push(row);
    } catch (error) {
      this.error = error as Error;
    }
  }

  handleCommandComplete(): void {}

  handlePortalSuspended(): void {}

  handleEmptyQuery(): void {}

  /**
   * The statement failed or the connection did. node-postgres forgets the query at once, so its ReadyForQuery
   * never reaches it (the client holds back its next query until then).
   */
  handleError(error: Error): void {
    this.settle(this.error ?? error);
  }

  handleReadyForQuery(): void {
    this.settle(this.error);
  }
}

/**
 * Runs one checked statement on a sandbox connection (a `CappedQuery`): at most `maxRows` rows and about
 * `maxBytes` of JSON are kept. Whatever happens, the query ends by DATA_QUERY_TIMEOUT_MS: the role's
 * statement_timeout, and behind it a deadline that terminates the session. The bytes read off the socket are
 * bounded too, so neither one enormous row nor many rows past the caps can grow this process's memory.
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
    const query = new CappedQuery(sql, params, limits);
    const lease = await this.pools.acquire(tenantId, limits.signal);
    const { client } = lease;
    const stream = client.connection.stream;
    let stopped: 'timeout' | 'aborted' | 'bytes' | undefined;
    let halt: () => void = () => undefined;
    // A destroyed connection may never settle its query: waiting for that must end when the session does.
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
      if (wireBytes > wireCap) stop('bytes');
    };
    stream.prependListener('data', onData);
    // node-postgres writes each protocol message on its own, and on this kind of machine a socket write costs
    // about as much as the query: corked until the end of the tick, the five leave as one write.
    stream.cork();
    process.nextTick(() => stream.uncork());
    client.query(query);
    try {
      await Promise.race([query.done, halted]);
      if (stopped) throw new Error(`sandbox session stopped (${stopped})`);
    } catch (error) {
      if (stopped === 'timeout') throw new QueryTimeoutException(this.config.DATA_QUERY_TIMEOUT_MS);
      if (stopped === 'aborted') throw abortReason(limits.signal);
      if (stopped !== 'bytes') throw error;
      query.truncated = 'bytes';
    } finally {
      clearTimeout(deadline);
      limits.signal?.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      lease.release(stopped !== undefined);
    }
    return { fields: query.fields, rows: query.rows, truncated: query.truncated };
  }
}
