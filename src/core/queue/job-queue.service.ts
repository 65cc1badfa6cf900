import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { type JobsOptions, type JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../config/redis.config';
import {
  JOB_CATALOG,
  type JobCatalog,
  type JobName,
  type JobPayloads,
  QUEUE_NAMES,
  type QueueName,
} from './job-catalog';
import { InjectRedis } from './redis.provider';

/** How long finished jobs stay in Redis (for inspection), unless a caller says otherwise. */
const KEEP: JobsOptions = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } };

/** The producer: enqueues typed jobs on the queue the catalog names. Used by API and worker alike. */
@Injectable()
export class JobQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger('JobQueue');
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(JOB_CATALOG) private readonly catalog: JobCatalog,
    private readonly config: RedisConfig,
  ) {}

  /** Pass a deterministic `jobId` to make enqueueing idempotent: BullMQ keeps one job per id. */
  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: JobsOptions = {},
  ): Promise<string> {
    const queueName = this.catalog[name];
    if (!queueName) throw new Error(`job '${String(name)}' is not in the job catalog`);
    const job = await this.queue(queueName).add(name, payload, { ...KEEP, ...options });
    return job.id ?? '';
  }

  /** Several jobs of one name in one round trip (`addBulk`); deterministic `jobId`s dedupe as in `enqueue`. */
  async enqueueMany<N extends JobName>(
    name: N,
    jobs: Array<{ payload: JobPayloads[N]; options?: JobsOptions }>,
  ): Promise<void> {
    if (jobs.length === 0) return;
    // One job needs no pipeline (ioredis copies every defined script into each pipeline it builds).
    if (jobs.length === 1) {
      await this.enqueue(name, jobs[0].payload, jobs[0].options);
      return;
    }
    const queueName = this.catalog[name];
    if (!queueName) throw new Error(`job '${String(name)}' is not in the job catalog`);
    await this.queue(queueName).addBulk(
      jobs.map((job) => ({
        name,
        data: job.payload,
        opts: { ...KEEP, ...job.options },
      })),
    );
  }

  /**
   * A repeating job, registered idempotently: every worker may call this at start, BullMQ keeps one
   * scheduler per id and each tick produces one job.
   */
  async every<N extends JobName>(name: N, payload: JobPayloads[N], everyMs: number): Promise<void> {
    const queueName = this.catalog[name];
    if (!queueName) throw new Error(`job '${String(name)}' is not in the job catalog`);
    await this.queue(queueName).upsertJobScheduler(name, { every: everyMs }, { name, data: payload });
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.config.QUEUE_PREFIX });
      // Without a listener BullMQ reports a lost connection (Redis or every Sentinel down) as an unhandled error.
      queue.on('error', (error) => this.logger.warn(`queue ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  allQueues(): Queue[] {
    return QUEUE_NAMES.map((name) => this.queue(name));
  }

  /** Jobs per queue in each of `states`, read from Redis now: `{engine: {waiting: 3, ...}, ...}`. */
  async counts<S extends JobType>(...states: S[]): Promise<Record<string, Record<S, number>>> {
    const entries = await Promise.all(
      this.allQueues().map(async (queue) => {
        const counts = await queue.getJobCounts(...states);
        return [queue.name, Object.fromEntries(states.map((state) => [state, counts[state] ?? 0]))] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<string, Record<S, number>>;
  }

  // After workers drained (onModuleDestroy), before the shared Redis connection closes (onApplicationShutdown).
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
