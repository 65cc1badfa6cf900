import { IsArray, IsIn, IsInt, IsString, Matches, Min } from 'class-validator';
import { QUEUE_NAMES } from '../queue/job-catalog';
import { EnvList } from './config.loader';

/** Redis, BullMQ and the worker process. */
export class RedisConfig {
  /** `redis://host:6379` or `rediss://…`; required (`npm start` starts a local `redis-server` when unset). */
  @IsString({ message: 'is required (or use `npm start`, which starts a local redis-server)' })
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL: string;

  /** Prefix of every BullMQ and Redis key, so several deployments can share one Redis. */
  @Matches(/^[a-zA-Z0-9_.-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ . or -' })
  QUEUE_PREFIX: string = 'conflux';

  /** The queues this worker process consumes, comma-separated: `engine`, `triggers`, `maintenance`. */
  @IsArray()
  @IsIn(QUEUE_NAMES, { each: true })
  @EnvList()
  WORKER_QUEUES: string[] = [...QUEUE_NAMES];

  /** Jobs per queue one worker process runs at once. */
  @IsInt()
  @Min(1)
  WORKER_CONCURRENCY: number = 10;

  /**
   * How long a worker's lock on an active job lasts without renewal; a job whose worker died is handed to
   * another worker within about this long (BullMQ stall detection runs at the same interval).
   */
  @IsInt()
  @Min(500)
  WORKER_LOCK_MS: number = 30_000;

  /** How long SIGTERM waits for active jobs before closing the worker anyway. */
  @IsInt()
  @Min(0)
  WORKER_SHUTDOWN_GRACE_MS: number = 30_000;
}
