import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EventPublisher } from '../../core/events/event-publisher';
import type { JobPayloads } from '../../core/queue/job-catalog';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { InjectRedis } from '../../core/queue/redis.provider';
import { EngineService } from './engine.service';

/** Worker side of the engine: executes step jobs, and aborts a cancelled run's steps running here. */
@Injectable()
export class EngineProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineProcessor');
  private subscriber?: Redis;

  constructor(
    private readonly engine: EngineService,
    private readonly publisher: EventPublisher,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  @JobHandler('engine.step')
  step(payload: JobPayloads['engine.step']): Promise<void> {
    return this.engine.runJob(payload);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { abort_runs: runs } = JSON.parse(message) as { abort_runs?: string[] };
        for (const runId of runs ?? []) this.engine.abortRun(runId);
      } catch (error) {
        this.logger.warn(`bad control message: ${(error as Error).message}`);
      }
    });
    await this.subscriber.subscribe(this.publisher.controlChannel());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
