import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobQueue } from '../../core/queue/job-queue.service';
import { PipelineSteps } from './steps/pipeline-steps.service';

const EVERY_MS = 10 * 60 * 1000;

/**
 * Worker side: a pipeline run's end drops its staging tables, but a run of a pipeline workflow started another
 * way (POST /runs, a schedule) has no end hook, and a crash can strand one. This sweep drops what is left, and
 * the stage records GET /pipeline/status no longer reads (older than a day).
 */
@Injectable()
export class PipelineStageSweep implements OnApplicationBootstrap {
  private readonly logger = new Logger('PipelineStageSweep');

  constructor(
    private readonly steps: PipelineSteps,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.every('maintenance.pipeline-stage-sweep', {}, EVERY_MS);
  }

  @JobHandler('maintenance.pipeline-stage-sweep')
  async run(): Promise<{ dropped: number }> {
    const dropped = await this.steps.sweep();
    if (dropped > 0) this.logger.log(`dropped ${dropped} staging table(s) of finished runs`);
    return { dropped };
  }
}
