import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal';
import { ObservabilityConfig } from '../../core/config/observability.config';
import { LOG_LEVELS, type LogEntry, type LogsQueryDto, type LogsQueryResponse } from './dto/logs-query.dto';
import { type LogFilter, LogStore, toEntry } from './log-store';
import { fetchJson } from './metrics-query.service';
import { LogsQueryInvalidException } from './observability.exceptions';

const DEFAULT_WINDOW_MS = 3_600_000;
const DEFAULT_LIMIT = 100;
const DEFAULT_LOGQL = '{service="conflux"}';

interface LokiStreams {
  data?: { result?: Array<{ stream?: Record<string, string>; values?: Array<[string, string]> }> };
}

/**
 * `/logs/query`: LogQL through Loki's query_range when LOKI_URL is set, else the local log store. A tenant caller
 * sees only lines of its own tenant (Loki: a `| json | tenant_id="..."` stage, and the answer filtered again).
 */
@Injectable()
export class LogsQueryService {
  constructor(
    private readonly config: ObservabilityConfig,
    private readonly store: LogStore,
  ) {}

  get backend(): 'loki' | 'local' {
    return this.config.LOKI_URL ? 'loki' : 'local';
  }

  async query(principal: Principal, body: LogsQueryDto): Promise<LogsQueryResponse> {
    const now = Date.now();
    const untilMs = body.until ? Date.parse(body.until) : now;
    const sinceMs = body.since ? Date.parse(body.since) : untilMs - DEFAULT_WINDOW_MS;
    if (sinceMs > untilMs) throw new LogsQueryInvalidException('since is after until', {});
    const filter: LogFilter = {
      sinceMs,
      untilMs,
      limit: body.limit ?? DEFAULT_LIMIT,
      level: body.level,
      requestId: body.request_id,
      tenantId: principal.role === 'admin' ? undefined : principal.tenant_id,
    };
    const entries = this.config.LOKI_URL
      ? await this.fromLoki(this.config.LOKI_URL, body.query, filter)
      : await this.store.query({ ...filter, text: body.query });
    return { entries };
  }

  private async fromLoki(base: string, query: string | undefined, filter: LogFilter): Promise<LogEntry[]> {
    const selector = (query ?? DEFAULT_LOGQL).trim();
    if (!selector.startsWith('{'))
      throw new LogsQueryInvalidException(
        'With LOKI_URL, query must be a LogQL log query (a stream selector such as {service="conflux"}, then pipeline stages)',
        { query: selector },
      );
    const stages: string[] = [];
    if (filter.tenantId) stages.push(`tenant_id=${JSON.stringify(filter.tenantId)}`);
    if (filter.requestId) stages.push(`request_id=${JSON.stringify(filter.requestId)}`);
    if (filter.level) {
      const levels = LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.level));
      stages.push(`level=~${JSON.stringify(levels.join('|'))}`);
    }
    const logql = stages.length ? `${selector} | json | ${stages.join(' | ')}` : selector;
    const params = new URLSearchParams({
      query: logql,
      start: `${filter.sinceMs}000000`,
      end: `${filter.untilMs}000000`,
      limit: String(filter.limit),
      direction: 'backward',
    });
    const url = new URL(
      `loki/api/v1/query_range?${params.toString()}`,
      base.endsWith('/') ? base : `${base}/`,
    );
    const body = (await fetchJson(url, 'loki', this.config.OBSERVABILITY_UPSTREAM_TIMEOUT_MS)) as LokiStreams;
    const lines: Array<{ ns: bigint; entry: LogEntry }> = [];
    for (const stream of body.data?.result ?? [])
      for (const [ns, line] of stream.values ?? []) {
        const parsed = parseLine(line);
        const entry = toEntry({ time: new Date(Number(BigInt(ns) / 1_000_000n)).toISOString(), ...parsed });
        lines.push({ ns: BigInt(ns), entry });
      }
    return lines
      .filter(({ entry }) => !filter.tenantId || entry.tenant_id === filter.tenantId)
      .sort((a, b) => (a.ns < b.ns ? 1 : a.ns > b.ns ? -1 : 0))
      .slice(0, filter.limit)
      .map(({ entry }) => entry);
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(line) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // A plain-text line: its text is the message.
  }
  return { msg: line };
}
