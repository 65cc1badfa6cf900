import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler } from '../../queue/job-handler.decorator';
import { JobQueue } from '../../queue/job-queue.service';
import { IdempotencyRepository } from './idempotency.repository';

const HOURLY = 3600 * 1000;

/** Worker side: schedules the hourly cleanup (once across all workers) and runs it. */
@Injectable()
export class IdempotencyCleanup implements OnApplicationBootstrap {
  private readonly logger = new Logger('IdempotencyCleanup');

  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.every('maintenance.idempotency-cleanup', {}, HOURLY);
  }

  @JobHandler('maintenance.idempotency-cleanup')
  async run(): Promise<{ deleted: number }> {
    const deleted = await this.repository.deleteExpired();
    if (deleted > 0) this.logger.log(`deleted ${deleted} expired idempotency records`);
    return { deleted };
  }
}
