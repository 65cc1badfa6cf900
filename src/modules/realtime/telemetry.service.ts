import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RealtimeConfig } from '../../core/config/realtime.config';
import { JobQueue } from '../../core/queue/job-queue.service';
import type { TenantId } from '../../core/tenancy/tenant-id';
import { RunsService } from '../runs/runs.service';
import type { TopicFrame } from './dto/frames';

const WINDOW_SECONDS = 60;

export type TelemetryListener = (frame: string) => void;

/**
 * The `telemetry` topic: every TELEMETRY_INTERVAL_MS, each tenant with a subscriber on this process gets its
 * figures, read fresh: open runs and steps, runs started and finished per second over the last minute, and the
 * queues' depths. Computed per process for its own sockets, so nothing is duplicated through Redis.
 */
@Injectable()
export class TelemetryService implements OnModuleDestroy {
  private readonly logger = new Logger('Telemetry');
  private readonly listeners = new Map<TenantId, Set<TelemetryListener>>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly config: RealtimeConfig,
    private readonly runs: RunsService,
    private readonly jobs: JobQueue,
  ) {}

  /** Returns the unsubscribe. The first snapshot follows at once. */
  add(tenantId: TenantId, listener: TelemetryListener): () => void {
    const set = this.listeners.get(tenantId) ?? new Set();
    this.listeners.set(tenantId, set.add(listener));
    this.timer ??= setInterval(() => void this.periodic(), this.config.TELEMETRY_INTERVAL_MS).unref();
    void this.send([tenantId], listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenantId);
      if (this.listeners.size === 0) this.onModuleDestroy();
    };
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async periodic(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    await this.send([...this.listeners.keys()]).finally(() => (this.busy = false));
  }

  /** To every listener of `tenants`, or to `only`. */
  private async send(tenants: TenantId[], only?: TelemetryListener): Promise<void> {
    if (tenants.length === 0) return;
    try {
      const [activity, counts] = await Promise.all([
        this.runs.activity(tenants, WINDOW_SECONDS),
        this.jobs.counts('waiting', 'prioritized', 'active', 'delayed'),
      ]);
      // Waiting to be picked up, whether FIFO or by priority (engine step jobs carry their tenant's fair share).
      const queues = Object.fromEntries(
        Object.entries(counts).map(([queue, c]) => [
          queue,
          { waiting: c.waiting + c.prioritized, active: c.active, delayed: c.delayed },
        ]),
      );
      const ts = new Date().toISOString();
      for (const row of activity) {
        const msg = {
          runs: {
            pending: row.pending,
            running: row.running,
            paused: row.paused,
            started_per_second: round(row.started / WINDOW_SECONDS),
            finished_per_second: round(row.finished / WINDOW_SECONDS),
          },
          steps: { queued: row.steps_queued, running: row.steps_running },
          queues,
          window_seconds: WINDOW_SECONDS,
        };
        const frame = JSON.stringify({ topic: 'telemetry', msg, ts } satisfies TopicFrame);
        for (const listener of only ? [only] : (this.listeners.get(row.tenant_id) ?? [])) listener(frame);
      }
    } catch (error) {
      this.logger.warn(`telemetry skipped: ${(error as Error).message}`);
    }
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;
