import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/redis.config';

export const REDIS = Symbol('REDIS');
export const InjectRedis = () => Inject(REDIS);

const COMMON: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };

/** `host:port` pairs of a comma-separated authority (`a:6379,b:6379`). */
function nodesOf(authority: string, defaultPort: number): Array<{ host: string; port: number }> {
  return authority.split(',').map((node) => {
    const [host, port] = node.split(':');
    return { host, port: Number(port || defaultPort) };
  });
}

/**
 * The one place Redis clients are made, from REDIS_URL:
 * - `redis://[:password@]host:6379[/db]` or `rediss://…`: one node (as before);
 * - `redis+cluster://[:password@]host1:6379,host2:6379`: a Redis Cluster (seed nodes; QUEUE_PREFIX must then
 *   carry a `{hash tag}` so each queue's keys share a slot, which RedisConfig checks);
 * - `redis+sentinel://[:password@]sentinel1:26379,sentinel2:26379/<master name>`: the master Sentinel names.
 * A Cluster client is handed out as a `Redis`: the commands Conflux and BullMQ send are the same on both.
 */
export function createRedisClient(url: string): Redis {
  const match = /^redis\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?]+)(?:\/([^?]*))?/.exec(url);
  if (!match) return new Redis(url, COMMON);
  const [, kind, auth, authority, path] = match;
  const [username, password] = (auth ?? '').split(':').map((part) => decodeURIComponent(part));
  const credentials = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  if (kind === 'sentinel') {
    return new Redis({
      ...COMMON,
      ...credentials,
      sentinels: nodesOf(authority, 26379),
      name: decodeURIComponent(path || 'mymaster'),
      // Listens for the Sentinels' +switch-master and reconnects to the new master at once, rather than only when
      // the old one drops the connection.
      failoverDetector: true,
    });
  }
  return new Cluster(nodesOf(authority, 6379), {
    redisOptions: { ...COMMON, ...credentials },
    enableReadyCheck: true,
  }) as unknown as Redis;
}

/**
 * A Lua script as a command of `redis` (ioredis `defineCommand`): sent as EVALSHA, so each call carries the
 * script's hash instead of its text, and again as EVAL only when Redis does not have it (after a restart or a
 * SCRIPT FLUSH). `keys` is how many leading arguments are keys (they route the call in a Cluster).
 */
export function scriptCommand(
  redis: Redis,
  name: string,
  lua: string,
  keys: number,
): (...args: Array<string | number>) => Promise<unknown> {
  redis.defineCommand(name, { numberOfKeys: keys, lua });
  const command = (redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>)[
    name
  ];
  return (...args) => command.apply(redis, args);
}

/** One shared command connection per process (BullMQ duplicates it for its blocking reads). */
export const redisProvider = {
  provide: REDIS,
  inject: [RedisConfig],
  useFactory: (config: RedisConfig) => createRedisClient(config.REDIS_URL),
};

/**
 * BullMQ loses jobs when Redis evicts keys: at boot, warn when `maxmemory-policy` is not `noeviction` (managed
 * services that refuse CONFIG GET are told to check it themselves).
 */
@Injectable()
export class RedisEvictionCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Redis');

  constructor(@InjectRedis() private readonly redis: Redis) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const [, policy] = (await this.redis.config('GET', 'maxmemory-policy')) as string[];
      if (policy !== undefined && policy !== 'noeviction')
        this.logger.warn(
          `maxmemory-policy is ${policy}: Redis may evict queued jobs under memory pressure; set it to noeviction`,
        );
    } catch {
      this.logger.warn('could not read maxmemory-policy (CONFIG GET refused): make sure it is noeviction');
    }
  }
}

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@InjectRedis() private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
