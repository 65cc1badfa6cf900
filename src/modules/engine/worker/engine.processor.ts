import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPublisher } from '../../../core/events/event-publisher';
import { EventSubscriber } from '../../../core/events/event-subscriber';
import type { JobPayloads } from '../../../core/queue/job-catalog';
import { JobHandler } from '../../../core/queue/job-handler.decorator';
import { EngineService } from '../engine.service';

/** Worker side of the engine: executes step jobs, and aborts a cancelled run's steps running here. */
@Injectable()
export class EngineProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger('EngineProcessor');

  constructor(
    private readonly engine: EngineService,
    private readonly publisher: EventPublisher,
    private readonly subscriber: EventSubscriber,
  ) {}

  @JobHandler('engine.step')
  step(payload: JobPayloads['engine.step'], job: { stopping?: () => boolean }): Promise<void> {
    return this.engine.runJob(payload, job.stopping);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.subscriber.subscribe(this.publisher.controlChannel(), {
      message: (payload) => {
        const runs = (payload as { abort_runs?: unknown }).abort_runs;
        if (!Array.isArray(runs)) return this.logger.warn('bad control message');
        for (const runId of runs) if (typeof runId === 'string') this.engine.abortRun(runId);
      },
    });
  }
}
