import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal';
import { ObservabilityConfig } from '../../core/config/observability.config';
import type { MetricsQueryDto, MetricsQueryResponse } from './dto/metrics-query.dto';
import { confineExpr, LocalMetrics } from './local-metrics';
import {
  MetricsQueryInvalidException,
  UpstreamQueryRejectedException,
  UpstreamUnavailableException,
} from './observability.exceptions';
import { confineToTenant, durationMs, parseFallbackQuery } from './promql';

/** Prometheus answers are reused this long for the same query (and time bucket, when a time is given). */
export const PROM_CACHE_MS = 5000;
const CACHE_ENTRIES = 1000;
/** As Prometheus: a range query has at most this many points per series. */
const MAX_POINTS = 11_000;

type Range = { startMs: number; endMs: number; stepMs: number };

/**
 * `/metrics/query`: PromQL proxied to PROM_URL (5 s cache, timeout) or answered by the local fallback. A tenant
 * caller is confined to series labelled with its own `tenant_id`; a platform admin sees everything.
 */
@Injectable()
export class MetricsQueryService {
  private readonly cache = new Map<string, { at: number; answer: Promise<MetricsQueryResponse> }>();

  constructor(
    private readonly config: ObservabilityConfig,
    private readonly local: LocalMetrics,
  ) {}

  get backend(): 'prometheus' | 'local' {
    return this.config.PROM_URL ? 'prometheus' : 'local';
  }

  query(principal: Principal, body: MetricsQueryDto): Promise<MetricsQueryResponse> {
    const tenantId = principal.role === 'admin' ? undefined : principal.tenant_id;
    const range = rangeOf(body);
    const atMs = body.time != null ? timeMs(body.time, 'time') : undefined;
    return this.config.PROM_URL
      ? this.proxy(this.config.PROM_URL, tenantId, body.query, atMs, range)
      : this.answerLocally(tenantId, body.query, atMs ?? Date.now(), range);
  }

  private async answerLocally(
    tenantId: string | undefined,
    query: string,
    atMs: number,
    range: Range | undefined,
  ): Promise<MetricsQueryResponse> {
    const parsed = parseFallbackQuery(query);
    const expr = tenantId ? confineExpr(parsed, tenantId) : parsed;
    if (range) {
      const series = await this.local.range(expr, range.startMs, range.endMs, range.stepMs);
      return {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: series.map(({ metric, values }) => ({
            metric,
            values: values.map(([t, v]) => [t / 1000, formatValue(v)]),
          })),
        },
      };
    }
    const samples = await this.local.instant(expr, atMs);
    return {
      status: 'success',
      data: {
        resultType: 'vector',
        result: samples.map(({ metric, value }) => ({ metric, value: [atMs / 1000, formatValue(value)] })),
      },
    };
  }

  private proxy(
    base: string,
    tenantId: string | undefined,
    query: string,
    atMs: number | undefined,
    range: Range | undefined,
  ): Promise<MetricsQueryResponse> {
    const confined = tenantId ? confineToTenant(query, tenantId) : query;
    const params = new URLSearchParams({ query: confined });
    if (range) {
      params.set('start', String(range.startMs / 1000));
      params.set('end', String(range.endMs / 1000));
      params.set('step', String(range.stepMs / 1000));
    } else if (atMs !== undefined) params.set('time', String(atMs / 1000));
    const path = range ? 'query_range' : 'query';
    // `now` queries share one entry for 5 s; a given time shares it with the times of its 5 s bucket.
    const bucket = range || atMs === undefined ? 'now' : String(Math.floor(atMs / PROM_CACHE_MS));
    const key = `${path}\n${params.toString()}\n${bucket}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && now - cached.at < PROM_CACHE_MS) return cached.answer;
    const answer = this.fetchPrometheus(new URL(`api/v1/${path}?${params.toString()}`, withSlash(base)));
    this.remember(key, now, answer);
    return answer;
  }

  private remember(key: string, at: number, answer: Promise<MetricsQueryResponse>): void {
    for (const [k, entry] of this.cache)
      if (at - entry.at >= PROM_CACHE_MS || this.cache.size >= CACHE_ENTRIES) this.cache.delete(k);
      else break;
    this.cache.set(key, { at, answer });
    // Failures are not cached: the next call asks again.
    answer.catch(() => this.cache.get(key)?.answer === answer && this.cache.delete(key));
  }

  private async fetchPrometheus(url: URL): Promise<MetricsQueryResponse> {
    const body = await fetchJson(url, 'prometheus', this.config.OBSERVABILITY_UPSTREAM_TIMEOUT_MS);
    return body as unknown as MetricsQueryResponse;
  }
}

/**
 * GET `url` as JSON with a time limit: 4xx answers are the caller's query (400 with the upstream's message),
 * anything else that is not a 2xx JSON body is the backend's fault (503).
 */
export async function fetchJson(
  url: URL,
  backend: 'prometheus' | 'loki',
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (error as Error).message;
    throw new UpstreamUnavailableException(backend, reason);
  }
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (res.status >= 400 && res.status < 500)
    throw new UpstreamQueryRejectedException(
      backend,
      typeof body?.error === 'string' ? body.error : text.slice(0, 500) || `HTTP ${res.status}`,
    );
  if (!res.ok || !body) throw new UpstreamUnavailableException(backend, `HTTP ${res.status}`);
  return body;
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

function rangeOf(body: MetricsQueryDto): Range | undefined {
  // null is absent, as an omitted field (optional DTO fields let null through).
  const given = (['start', 'end', 'step'] as const).filter((field) => body[field] != null);
  if (given.length === 0) return undefined;
  if (given.length < 3)
    throw new MetricsQueryInvalidException('A range query needs start, end and step', {
      missing: (['start', 'end', 'step'] as const).filter((field) => body[field] == null),
    });
  const startMs = timeMs(body.start as string, 'start');
  const endMs = timeMs(body.end as string, 'end');
  const step = body.step as string;
  const stepMs = /^\d+(\.\d+)?$/.test(step) ? Number(step) * 1000 : durationMs(step);
  if (!(stepMs > 0)) throw new MetricsQueryInvalidException('step must be positive', { step });
  if (endMs < startMs) throw new MetricsQueryInvalidException('end is before start', {});
  if ((endMs - startMs) / stepMs > MAX_POINTS)
    throw new MetricsQueryInvalidException(
      `At most ${MAX_POINTS} points per series: raise step or narrow the range`,
      { max_points: MAX_POINTS },
    );
  return { startMs, endMs, stepMs };
}

/** Unix seconds (`1700000000.5`) or RFC 3339. */
function timeMs(value: string, field: string): number {
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new MetricsQueryInvalidException(`${field} must be unix seconds or an RFC 3339 time`, {
      [field]: value,
    });
  return ms;
}

/** As Prometheus writes sample values. */
function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
