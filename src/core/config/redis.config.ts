import {
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Min,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import { QUEUE_NAMES } from '../queue/job-catalog';
import { EnvList } from './config.loader';

/** Redis, BullMQ and the worker process. */
export class RedisConfig {
  /**
   * `redis://host:6379` or `rediss://…`; a Redis Cluster as `redis+cluster://host1:6379,host2:6379`, Sentinel as
   * `redis+sentinel://sentinel1:26379,sentinel2:26379/<master name>` (`:password@` before the hosts in each);
   * required (`npm start` starts a local `redis-server` when unset).
   */
  @IsString({ message: 'is required (or use `npm start`, which starts a local redis-server)' })
  @Matches(/^(rediss?|redis\+cluster|redis\+sentinel):\/\//, {
    message: 'must be a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL',
  })
  REDIS_URL: string;

  /**
   * Prefix of every BullMQ and Redis key, so several deployments can share one Redis. With a Redis Cluster it
   * must be a hash tag, e.g. `{conflux}`, so each queue's keys (and each Lua script's) share one slot.
   */
  @Matches(/^[a-zA-Z0-9_.{}-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ . - { or }' })
  @ValidateBy({
    name: 'clusterHashTag',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        !(args?.object as RedisConfig | undefined)?.REDIS_URL?.startsWith('redis+cluster://') ||
        /^\{[^{}]+\}/.test(String(value)),
      defaultMessage: () => 'must start with a {hash tag} when REDIS_URL is a Redis Cluster, e.g. {conflux}',
    },
  })
  QUEUE_PREFIX: string = 'conflux';

  /** The queues this worker process consumes, comma-separated: `engine`, `triggers`, `maintenance`, `documents`. */
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
