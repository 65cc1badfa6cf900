import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EngineConfig } from '../../../core/config/engine.config';
import { JobHandler } from '../../../core/queue/job-handler.decorator';
import { JobQueue } from '../../../core/queue/job-queue.service';
import { RunStore } from '../persistence/run-store';

const HOURLY = 3600 * 1000;
const BATCH = 1000;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Worker side: deletes runs that ended more than RUN_RETENTION_DAYS ago, with their steps and events, in batches
 * (so no statement holds many rows at once). Open runs are never deleted, whatever their age.
 */
@Injectable()
export class RunRetention implements OnApplicationBootstrap {
  private readonly logger = new Logger('RunRetention');

  constructor(
    private readonly runs: RunStore,
    private readonly jobs: JobQueue,
    private readonly config: EngineConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.every('maintenance.run-retention', {}, HOURLY);
  }

  @JobHandler('maintenance.run-retention')
  async run(): Promise<{ deleted: number }> {
    const days = this.config.RUN_RETENTION_DAYS;
    if (days === 0) return { deleted: 0 };
    const before = new Date(Date.now() - days * DAY_MS);
    let deleted = 0;
    for (let batch = BATCH; batch === BATCH; deleted += batch)
      batch = await this.runs.deleteFinishedRunsForEngine(before, BATCH);
    if (deleted > 0) this.logger.log(`deleted ${deleted} run(s) finished before ${before.toISOString()}`);
    return { deleted };
  }
}
