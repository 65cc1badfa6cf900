import { AiConfig, aiBackend } from '../../core/config/ai.config';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../core/config/app.config';
import { ObservabilityConfig } from '../../core/config/observability.config';
import { JobQueue } from '../../core/queue/job-queue.service';
import { InjectRedis } from '../../core/queue/redis.provider';
import { version } from '../../version';
import { ObjectStorage } from '../storage/object-storage';

const CHECK_TIMEOUT_MS = 2000;

export interface CheckResult {
  status: 'up' | 'down';
  [key: string]: unknown;
}

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  env: 'LIVE';
  service: 'conflux';
  version: string;
  environment: string;
  checks: { database: CheckResult; redis: CheckResult; workers: CheckResult; storage: CheckResult };
  backends: {
    database: 'embedded' | 'external';
    storage: 'local' | 's3';
    metrics: 'prometheus' | 'local';
    logs: 'loki' | 'local';
    ai: 'llm' | 'builtin';
  };
  error_code?: 'DB_UNAVAILABLE' | 'QUEUE_UNAVAILABLE';
  /** When the checks behind this report ran (it is reused for HEALTH_CACHE_MS). */
  checked_at?: string;
}

/**
 * Database and Redis are required (down: unhealthy, 503); no connected worker means jobs will wait, and an
 * unreachable object store means uploads and downloads fail: both degraded but still serving (200).
 */
@Injectable()
export class HealthService {
  private cached?: { report: HealthReport; at: number };
  private refreshing?: Promise<HealthReport>;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    @InjectRedis() private readonly redis: Redis,
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
    private readonly storage: ObjectStorage,
    private readonly observability: ObservabilityConfig,
    private readonly ai: AiConfig,
  ) {}

  /**
   * The report as of at most HEALTH_CACHE_MS ago, so probes cost nothing: however many arrive, one round of
   * checks runs at a time. `deep` runs one now.
   */
  async view(deep = false): Promise<HealthReport> {
    const cached = this.cached;
    if (!deep && cached && Date.now() - cached.at < this.config.HEALTH_CACHE_MS) return cached.report;
    if (deep) return this.check();
    this.refreshing ??= this.check().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async check(): Promise<HealthReport> {
    const at = Date.now();
    const report = { ...(await this.report()), checked_at: new Date(at).toISOString() };
    if (!this.cached || this.cached.at < at) this.cached = { report, at };
    return report;
  }

  async report(): Promise<HealthReport> {
    const [database, redis, workers, storage] = await Promise.all([
      this.typeorm.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
      this.indicators
        .check('redis')
        .attempt(async () => {
          const started = Date.now();
          await this.redis.ping();
          return { latency_ms: Date.now() - started };
        })
        .withTimeout(CHECK_TIMEOUT_MS),
      this.indicators
        .check('workers')
        .attempt(async () => {
          const counts = await Promise.all(this.jobs.allQueues().map((queue) => queue.getWorkersCount()));
          const count = Math.max(0, ...counts);
          if (count === 0) throw new Error('no worker is consuming the queues');
          return { count };
        })
        .withTimeout(CHECK_TIMEOUT_MS),
      this.indicators
        .check('storage')
        .attempt(async () => {
          const started = Date.now();
          await this.storage.ping();
          return { backend: this.storage.kind, latency_ms: Date.now() - started };
        })
        .withTimeout(CHECK_TIMEOUT_MS),
    ]);
    const checks = {
      database: withCode(database.database as CheckResult, 'DB_UNAVAILABLE'),
      redis: withCode(redis.redis as CheckResult, 'QUEUE_UNAVAILABLE'),
      workers: workers.workers as CheckResult,
      storage: { ...(storage.storage as CheckResult), backend: this.storage.kind },
    };
    const errorCode = (checks.database.error_code ?? checks.redis.error_code) as HealthReport['error_code'];
    return {
      status: errorCode
        ? 'unhealthy'
        : checks.workers.status === 'up' && checks.storage.status === 'up'
          ? 'healthy'
          : 'degraded',
      env: 'LIVE',
      service: 'conflux',
      version,
      environment: this.config.NODE_ENV,
      checks,
      backends: {
        database: this.config.EMBEDDED_POSTGRES ? 'embedded' : 'external',
        storage: this.storage.kind,
        metrics: this.observability.PROM_URL ? 'prometheus' : 'local',
        logs: this.observability.LOKI_URL ? 'loki' : 'local',
        ai: aiBackend(this.ai),
      },
      ...(errorCode ? { error_code: errorCode } : {}),
    };
  }
}

function withCode(result: CheckResult, code: string): CheckResult {
  return result.status === 'up' ? result : { ...result, error_code: code };
}
