import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ObservabilityConfig } from '../../core/config/observability.config';
import { RedisConfig } from '../../core/config/redis.config';
import { MetricsService } from '../../core/metrics/metrics.service';
import { InjectRedis } from '../../core/queue/redis.provider';

export type Labels = Record<string, string>;

/** `api` or `worker`: the `process` label of this app's series. */
export const METRICS_ROLE = Symbol('METRICS_ROLE');

/** One process's values of one metric at one push: `[labels, value]` per series. */
export interface Snapshot {
  /** The pushing app instance (the `instance` label). */
  instance: string;
  /** Milliseconds since the epoch. */
  t: number;
  series: Array<[Labels, number]>;
}

/** This app instance's name in the `instance` label: role, host, pid and a random tag (tests run several). */
export function instanceName(role: 'api' | 'worker'): string {
  return `${role}:${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
}

/**
 * The local fallback's storage: every process pushes its registry to Redis every METRICS_PUSH_INTERVAL_MS, one
 * sorted set per metric name (score: the push time), trimmed to METRICS_HISTORY_SECONDS at each push, so any API
 * process can answer a query over the whole deployment. Snapshots carry `process` (api|worker) and `instance`.
 */
@Injectable()
export class MetricSnapshots implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MetricSnapshots');
  private timer?: NodeJS.Timeout;
  private pushing?: Promise<void>;
  private instance = '';

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: ObservabilityConfig,
    private readonly redisConfig: RedisConfig,
    @InjectRedis() private readonly redis: Redis,
    @Inject(METRICS_ROLE) private readonly role: 'api' | 'worker',
  ) {}

  onApplicationBootstrap(): void {
    this.instance = instanceName(this.role);
    void this.pushNow();
    this.timer = setInterval(() => void this.pushNow(), this.config.METRICS_PUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** A last push, so what this process counted outlives it for the history window. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.pushing;
    if (this.redis.status === 'ready') await this.pushNow();
  }

  private key(name: string): string {
    return `${this.redisConfig.QUEUE_PREFIX}:obs:metrics:${name}`;
  }

  private pushNow(): Promise<void> {
    this.pushing ??= this.push()
      .catch((error: Error) => this.logger.warn(`metrics push failed: ${error.message}`))
      .finally(() => (this.pushing = undefined));
    return this.pushing;
  }

  private async push(): Promise<void> {
    const t = Date.now();
    const byName = new Map<string, Array<[Labels, number]>>();
    for (const metric of await this.metrics.registry.getMetricsAsJSON()) {
      // Every name gets a snapshot, series or not: a counter's first series then rises from a push without it
      // (0), and increase() over a window that saw it appear counts it whole.
      const names =
        String(metric.type) === 'histogram'
          ? ['_bucket', '_sum', '_count'].map((s) => metric.name + s)
          : [metric.name];
      for (const name of names) if (!byName.has(name)) byName.set(name, []);
      for (const value of metric.values) {
        const name = (value as { metricName?: string }).metricName ?? metric.name;
        const labels: Labels = { instance: this.instance, process: this.role };
        for (const [label, v] of Object.entries(value.labels)) if (v !== undefined) labels[label] = String(v);
        const series = byName.get(name) ?? [];
        series.push([labels, value.value]);
        byName.set(name, series);
      }
    }
    const oldest = t - this.config.METRICS_HISTORY_SECONDS * 1000;
    const ttl = this.config.METRICS_HISTORY_SECONDS * 2;
    const pipeline = this.redis.pipeline();
    for (const [name, series] of byName) {
      const key = this.key(name);
      const member: Snapshot = { instance: this.instance, t, series };
      pipeline.zadd(key, t, JSON.stringify(member));
      pipeline.zremrangebyscore(key, '-inf', `(${oldest}`);
      pipeline.expire(key, ttl);
    }
    await pipeline.exec();
  }

  /** Every process's snapshots of `name` pushed in [fromMs, toMs]. */
  async read(name: string, fromMs: number, toMs: number): Promise<Snapshot[]> {
    const members = await this.redis.zrangebyscore(this.key(name), fromMs, toMs);
    return members.map((member) => JSON.parse(member) as Snapshot);
  }
}
