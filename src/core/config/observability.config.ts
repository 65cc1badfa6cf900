import { IsInt, IsOptional, IsUrl, Max, Min, MinLength } from 'class-validator';

/** The metrics and logs query APIs: Prometheus and Loki when configured, else Conflux's own stores in Redis. */
export class ObservabilityConfig {
  /** Prometheus base URL (`http://prometheus:9090`): `/metrics/query` proxies to it; unset, the local fallback answers. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PROM_URL?: string;

  /** Loki base URL (`http://loki:3100`): `/logs/query` runs LogQL there; unset, the local log store answers. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  LOKI_URL?: string;

  /** Time limit of one proxied Prometheus or Loki request; past it the query answers 503. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  OBSERVABILITY_UPSTREAM_TIMEOUT_MS: number = 5000;

  /** How often every process pushes its metrics registry to Redis for the local fallback. */
  @IsInt()
  @Min(100)
  METRICS_PUSH_INTERVAL_MS: number = 15_000;

  /** How far back the local fallback keeps pushed snapshots (older ones are trimmed at each push). */
  @IsInt()
  @Min(60)
  @Max(86_400)
  METRICS_HISTORY_SECONDS: number = 3600;

  /** Bearer token a worker's WORKER_METRICS_PORT /metrics requires (what Prometheus sends); unset: none needed. */
  @IsOptional()
  @MinLength(16)
  WORKER_METRICS_TOKEN?: string;

  /** Lines the local log store keeps (a capped Redis stream: the oldest go first). */
  @IsInt()
  @Min(100)
  @Max(1_000_000)
  LOG_STORE_MAX_ENTRIES: number = 50_000;
}
