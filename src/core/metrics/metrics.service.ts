import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JobQueue } from '../queue/job-queue.service';

const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
  'waiting-children',
] as const;

/**
 * This process's Prometheus registry (one per app instance, so several can share a test process). The API
 * serves it at /metrics; a worker on WORKER_METRICS_PORT. Counters are per process: Prometheus sums them.
 * Prometheus labels what it scrapes by `job` and `instance` (deploy/prometheus adds `process`); the snapshots the
 * local fallback reads carry `process` and `instance` too. `tenant_id` only on the run counters, whose
 * cardinality is tenants x a few statuses (never on HTTP routes, steps or queues).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly runsStarted = new Counter({
    name: 'conflux_runs_started_total',
    help: 'Runs started by this process, by trigger type and tenant',
    labelNames: ['trigger_type', 'tenant_id'] as const,
    registers: [this.registry],
  });

  readonly runsFinished = new Counter({
    name: 'conflux_runs_finished_total',
    help: 'Runs that ended in this process, by final status (completed, failed, cancelled) and tenant',
    labelNames: ['status', 'tenant_id'] as const,
    registers: [this.registry],
  });

  readonly stepDuration = new Histogram({
    name: 'conflux_step_duration_seconds',
    help: 'Execution time of step attempts in this worker, by step type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  readonly wsConnections = new Gauge({
    name: 'conflux_ws_connections',
    help: 'Open WebSocket connections on this API process, by endpoint (runs, realtime)',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly wsDeliveryLatency = new Histogram({
    name: 'conflux_ws_delivery_latency_seconds',
    help: 'From an event being published after its commit to its frame being written to a socket',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly wsSlowClients = new Counter({
    name: 'conflux_ws_slow_client_disconnects_total',
    help: 'Sockets disconnected because they left more than WS_MAX_BUFFERED_BYTES unread',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  constructor(jobs: JobQueue) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'conflux_queue_jobs',
      help: 'Jobs per queue and state, read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        for (const [queue, counts] of Object.entries(await jobs.counts(...QUEUE_STATES)))
          for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state]);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
