import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { JobPayloads } from '../../core/queue/job-catalog';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { TriggersService } from './triggers.service';

/** Worker side of schedules: re-registers them from Postgres at start, and fires each tick. */
@Injectable()
export class ScheduleProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger('Schedules');

  constructor(private readonly triggers: TriggersService) {}

  async onApplicationBootstrap(): Promise<void> {
    const count = await this.triggers.syncSchedulers();
    this.logger.log(`registered ${count} schedule(s)`);
  }

  @JobHandler('trigger.schedule')
  tick(payload: JobPayloads['trigger.schedule'], job: { id?: string }): Promise<void> {
    return this.triggers.fire(payload.schedule_id, job.id ?? `${payload.schedule_id}:${Date.now()}`);
  }
}
