import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ObservabilityConfig } from '../../core/config/observability.config';
import { RedisConfig } from '../../core/config/redis.config';
import type { LogStoreSink } from '../../core/logging/log-store-sink';
import { InjectRedis } from '../../core/queue/redis.provider';
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

/**
 * The local log store: one capped Redis stream per deployment (`<QUEUE_PREFIX>:obs:logs`, XADD MAXLEN ~
 * LOG_STORE_MAX_ENTRIES) that every API and worker process appends to through its LogStoreSink. A stream rather
 * than a Postgres table: bounded by construction (no pruning job), one round trip per batch, entry ids are
 * timestamps (a time range is an id range), and log volume never competes with the source of truth's writes.
 */
@Injectable()
export class LogStore implements OnApplicationShutdown {
  private sink?: LogStoreSink;

  constructor(
    private readonly config: ObservabilityConfig,
    private readonly redisConfig: RedisConfig,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  private get key(): string {
    return `${this.redisConfig.QUEUE_PREFIX}:obs:logs`;
  }

  /** Starts writing what the process's logger kept (and what it kept while booting). */
  attach(sink: LogStoreSink): void {
    this.sink = sink;
    sink.attach(async (lines) => {
      if (this.redis.status !== 'ready') return;
      const pipeline = this.redis.pipeline();
      for (const line of lines)
        pipeline.xadd(this.key, 'MAXLEN', '~', this.config.LOG_STORE_MAX_ENTRIES, '*', 'e', line);
      await pipeline.exec();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sink?.detach();
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
