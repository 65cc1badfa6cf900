import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { ObservabilityConfig } from '../config/observability.config';
import { MetricsService } from './metrics.service';

/**
 * A worker has no HTTP API; with WORKER_METRICS_PORT set it serves GET /metrics for Prometheus to scrape, behind
 * `Authorization: Bearer <WORKER_METRICS_TOKEN>` when that is set.
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerMetrics');
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly observability: ObservabilityConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.WORKER_METRICS_PORT) return;
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') return void res.writeHead(404).end();
      if (!this.authorized(req)) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      this.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) =>
      this.server?.listen(this.config.WORKER_METRICS_PORT, this.config.HOST, resolve),
    );
    this.logger.log(`metrics on :${this.config.WORKER_METRICS_PORT}/metrics`);
  }

  private authorized(req: IncomingMessage): boolean {
    const token = this.observability.WORKER_METRICS_TOKEN;
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${token}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
