import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ObservabilityConfig } from '../../core/config/observability.config';
import { RedisConfig } from '../../core/config/redis.config';
import type { PublishedMessage } from '../../core/events/event-publisher';
import type { LogStoreSink } from '../../core/logging/log-store-sink';
import { InjectRedis, scriptCommand } from '../../core/queue/redis.provider';
import type { LogEntry, LogLevel } from './dto/logs-query.dto';
import { LOG_LEVELS } from './dto/logs-query.dto';

export interface LogFilter {
  sinceMs: number;
  untilMs: number;
  limit: number;
  level?: LogLevel;
  requestId?: string;
  tenantId?: string;
  text?: string;
}

const SCAN_BATCH = 500;
/** A batch of lines in one command: `KEYS[1]` the stream, `ARGV[1]` its cap, then one line per argument. */
const APPEND = `for i = 2, #ARGV do redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i]) end`;
/** How long one tail read blocks before it looks again whether anyone still listens. */
const TAIL_BLOCK_MS = 2_000;

/** A stored line as the `logs` topic carries it (one object, so every socket shares its serialised frame). */
export type LogTailListener = (line: PublishedMessage) => void;

/**
 * The local log store: one capped Redis stream per deployment (`<QUEUE_PREFIX>:obs:logs`, XADD MAXLEN ~
 * LOG_STORE_MAX_ENTRIES) that every API and worker process appends to through its LogStoreSink. A stream rather
 * than a Postgres table: bounded by construction (no pruning job), one round trip per batch, entry ids are
 * timestamps (a time range is an id range), and log volume never competes with the source of truth's writes.
 */
@Injectable()
export class LogStore implements OnApplicationShutdown {
  private sink?: LogStoreSink;
  private readonly tailers = new Set<LogTailListener>();
  /** The connection the tail blocks on (XREAD BLOCK holds a connection), while anyone listens. */
  private tailReader?: Redis;
  private readonly logger = new Logger('LogStore');

  private readonly append: (...args: Array<string | number>) => Promise<unknown>;

  constructor(
    private readonly config: ObservabilityConfig,
    private readonly redisConfig: RedisConfig,
    @InjectRedis() private readonly redis: Redis,
  ) {
    this.append = scriptCommand(redis, 'confluxLogAppend', APPEND, 1);
  }

  private get key(): string {
    return `${this.redisConfig.QUEUE_PREFIX}:obs:logs`;
  }

  /** Starts writing what the process's logger kept (and what it kept while booting). */
  attach(sink: LogStoreSink): void {
    this.sink = sink;
    sink.attach(async (lines) => {
      if (this.redis.status !== 'ready') return;
      // One script call per batch rather than a pipeline: ioredis builds each pipeline by copying every script
      // defined on the connection (BullMQ's dozens), which cost more CPU than the request it logged.
      await this.append(this.key, this.config.LOG_STORE_MAX_ENTRIES, ...lines);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.tailers.clear();
    this.stopTail();
    await this.sink?.detach();
  }

  /**
   * Every line any process stores from now on, as it arrives: one blocking reader per process however many
   * listen, started by the first and stopped with the last. Returns the listener's stop.
   */
  tail(listener: LogTailListener): () => void {
    this.tailers.add(listener);
    if (!this.tailReader) void this.follow();
    return () => {
      this.tailers.delete(listener);
      if (this.tailers.size === 0) this.stopTail();
    };
  }

  private stopTail(): void {
    const reader = this.tailReader;
    this.tailReader = undefined;
    reader?.disconnect();
  }

  private async follow(): Promise<void> {
    const reader = this.redis.duplicate();
    this.tailReader = reader;
    reader.on('error', (error: Error) => this.logger.warn(`log tail: ${error.message}`));
    // `$` is the stream's newest entry when the first read arrives; from then on the last id delivered, so a
    // reconnect resumes where it stopped.
    let last = '$';
    try {
      while (this.tailReader === reader) {
        const read = await reader.xread(
          'COUNT',
          SCAN_BATCH,
          'BLOCK',
          TAIL_BLOCK_MS,
          'STREAMS',
          this.key,
          last,
        );
        for (const [, entries] of read ?? [])
          for (const [id, fields] of entries) {
            last = id;
            const line = tailLine(fields[1]);
            if (line) for (const listener of this.tailers) listener(line);
          }
      }
    } catch (error) {
      // disconnect() by the last listener's stop rejects the pending read; anything else is worth a line.
      if (this.tailReader === reader) this.logger.warn(`log tail stopped: ${(error as Error).message}`);
    } finally {
      if (this.tailReader === reader) this.stopTail();
    }
  }

  /** Newest first, at most `limit`, scanning back from `untilMs` to `sinceMs`. */
  async query(filter: LogFilter): Promise<LogEntry[]> {
    const minLevel = filter.level ? LOG_LEVELS.indexOf(filter.level) : 0;
    const text = filter.text?.toLowerCase();
    const entries: LogEntry[] = [];
    let end = String(filter.untilMs);
    const start = String(filter.sinceMs);
    for (;;) {
      const batch = await this.redis.xrevrange(this.key, end, start, 'COUNT', SCAN_BATCH);
      for (const [, fields] of batch) {
        const raw = fields[1];
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (LOG_LEVELS.indexOf(line.level as LogLevel) < minLevel) continue;
        if (filter.requestId !== undefined && line.request_id !== filter.requestId) continue;
        if (filter.tenantId !== undefined && line.tenant_id !== filter.tenantId) continue;
        if (text !== undefined && !raw.toLowerCase().includes(text)) continue;
        entries.push(toEntry(line));
        if (entries.length >= filter.limit) return entries;
      }
      if (batch.length < SCAN_BATCH) return entries;
      end = `(${batch[batch.length - 1][0]}`;
    }
  }
}

/** A stored line as the `logs` topic's message; undefined for one that is not JSON (written by something else). */
function tailLine(raw: string): PublishedMessage | undefined {
  try {
    const msg = toEntry(JSON.parse(raw) as Record<string, unknown>);
    return { topic: 'logs', msg, published_at: Date.parse(msg.timestamp) };
  } catch {
    return undefined;
  }
}

/** A stored or Loki line as the API answers it: the fixed fields, then every other field of the line. */
export function toEntry(line: Record<string, unknown>): LogEntry {
  const { time, level, msg, request_id, tenant_id, process, pid: _pid, service: _service, ...rest } = line;
  return {
    timestamp: typeof time === 'string' ? time : new Date(Number(time)).toISOString(),
    level: typeof level === 'string' ? level : 'info',
    msg: typeof msg === 'string' ? msg : '',
    request_id: typeof request_id === 'string' ? request_id : null,
    tenant_id: typeof tenant_id === 'string' ? tenant_id : null,
    process: typeof process === 'string' ? process : 'unknown',
    ...rest,
  };
}
