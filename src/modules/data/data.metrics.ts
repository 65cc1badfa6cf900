import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../../core/metrics/metrics.service';
import type { RefusalReason } from './data.exceptions';
import { SandboxPools } from './sandbox-pools';

export type QueryOutcome =
  'ok' | 'refused' | 'invalid' | 'denied' | 'timeout' | 'unavailable' | 'aborted' | 'error';

/** The sandbox's metrics, on the process's registry (the API's /metrics, a worker's metrics port). */
@Injectable()
export class DataMetrics {
  readonly queryDuration: Histogram<'via' | 'outcome'>;
  readonly refused: Counter<'reason'>;

  constructor(metrics: MetricsService, pools: SandboxPools) {
    const registers = [metrics.registry];
    this.queryDuration = new Histogram({
      name: 'conflux_data_query_duration_seconds',
      help: 'Sandbox queries (POST /data/query, sql.query steps) from parsing to the last row, by origin and outcome',
      labelNames: ['via', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.refused = new Counter({
      name: 'conflux_data_queries_refused_total',
      help: 'Statements the sandbox refused before running them, by reason (function, not_select, locking, ...)',
      labelNames: ['reason'] as const,
      registers,
    });
    new Gauge({
      name: 'conflux_data_sandbox_connections',
      help: 'Sandbox connections of this process: open (in use or idle), idle, and checkouts waiting for one',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const stats = pools.stats();
        this.set({ state: 'open' }, stats.open);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    new Gauge({
      name: 'conflux_data_sandbox_pools',
      help: 'Tenant connection pools this process keeps (at most DATA_MAX_POOLS)',
      registers,
      collect() {
        this.set(pools.stats().pools);
      },
    });
  }

  countRefusal(reason: RefusalReason): void {
    this.refused.inc({ reason });
  }
}
