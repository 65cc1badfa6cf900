import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../config/redis.config';
import type { QueueName } from './job-catalog';
import { JobRegistry } from './job-registry';
import { InjectRedis } from './redis.provider';

/**
 * Runs BullMQ workers for the queues in WORKER_QUEUES, dispatching each job to its registered handler.
 * `start()` is called by the worker bootstrap once the whole app is ready; on shutdown, active jobs get WORKER_SHUTDOWN_GRACE_MS
 * to finish before the workers are closed anyway (their jobs then return to the queue as stalled).
 */
@Injectable()
export class WorkerHost implements OnModuleDestroy {
  private readonly logger = new Logger('WorkerHost');
  private readonly workers: Worker[] = [];
  private stopping = false;
  private readonly isStopping = () => this.stopping;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly registry: JobRegistry,
    private readonly config: RedisConfig,
  ) {}

  async start(): Promise<void> {
    this.registry.load();
    for (const name of this.config.WORKER_QUEUES as QueueName[]) {
      const worker = new Worker(
        name,
        (job: Job, token?: string, signal?: AbortSignal) => this.process(job, signal),
        {
          connection: this.redis,
          prefix: this.config.QUEUE_PREFIX,
          concurrency: this.config.WORKER_CONCURRENCY,
          lockDuration: this.config.WORKER_LOCK_MS,
          stalledInterval: this.config.WORKER_LOCK_MS,
          maxStalledCount: 2,
        },
      );
      worker.on('failed', (job, error) =>
        this.logger.warn(`job ${job?.name ?? '?'} ${job?.id ?? ''} failed: ${error.message}`),
      );
      worker.on('error', (error) => this.logger.error(`worker ${name}: ${error.message}`));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
    this.logger.log(`consuming ${this.config.WORKER_QUEUES.join(', ')}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const grace = this.config.WORKER_SHUTDOWN_GRACE_MS;
    this.logger.log(`stopping: waiting up to ${grace} ms for active jobs`);
    await Promise.all(
      this.workers.map(async (worker) => {
        let timer: NodeJS.Timeout | undefined;
        const drained = worker.close().then(() => true);
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), grace)));
        const finished = await Promise.race([drained, timedOut]);
        clearTimeout(timer);
        if (!finished) {
          this.logger.warn(`grace period over; closing ${worker.name} with jobs still active`);
          await worker.close(true);
        }
      }),
    );
  }

  private async process(job: Job, signal?: AbortSignal): Promise<unknown> {
    const handler = this.registry.handlerFor(job.name);
    if (!handler) throw new Error(`no handler for job '${job.name}'`);
    return handler(job.data, {
      id: job.id,
      attemptsMade: job.attemptsMade,
      signal,
      stopping: this.isStopping,
    });
  }
}
