import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../../config/redis.config';
import { InjectRedis, scriptCommand } from '../../queue/redis.provider';
import { ServiceUnavailableAppException } from '../app.exception';

/** How long a request waits for Redis to count it before answering 503 rather than hanging. */
const REDIS_DEADLINE_MS = 2_000;
/** Connection states in which Redis was lost (not merely not connected yet, as at start-up). */
const DOWN = new Set(['reconnecting', 'close', 'end']);

export interface Policy {
  /** Shown in RateLimit-Policy, e.g. `tenant-minute`. */
  name: string;
  /** Whose budget: `tenant:acme`, `ip:1.2.3.4`, `global`. */
  subject: string;
  limit: number;
  windowSeconds: number;
}

export interface PolicyState extends Policy {
  remaining: number;
  resetSeconds: number;
}

export type Decision =
  | { allowed: true; states: PolicyState[]; keys: string[] }
  | { allowed: false; blocked: PolicyState; states: PolicyState[] };

/**
 * Fixed windows in Redis, checked and counted atomically for all of a request's policies at once: a request
 * is counted only when every policy has room, so a rejected request costs nothing. The window is taken from
 * Redis's clock, so every API process agrees on it.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local out = {}
local keys = {}
for i = 0, n - 1 do
  local base, limit, win = ARGV[2 + i * 3], tonumber(ARGV[3 + i * 3]), tonumber(ARGV[4 + i * 3])
  local idx = math.floor(now / win)
  local key = base .. ':' .. idx
  local current = tonumber(redis.call('GET', key) or '0')
  local reset = (idx + 1) * win - now
  keys[i + 1] = key
  if current + 1 > limit then
    return {0, i, current, reset}
  end
  out[#out + 1] = current + 1
  out[#out + 1] = reset
end
for i = 1, n do
  if redis.call('INCR', keys[i]) == 1 then redis.call('PEXPIRE', keys[i], ARGV[4 + (i - 1) * 3]) end
end
local result = {1}
for i = 1, n do
  result[#result + 1] = keys[i]
  result[#result + 1] = out[i * 2 - 1]
  result[#result + 1] = out[i * 2]
end
return result
`;

@Injectable()
export class RateLimiter {
  private readonly script: (...args: Array<string | number>) => Promise<unknown>;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly config: RedisConfig,
  ) {
    this.script = scriptCommand(redis, 'confluxRateLimit', SCRIPT, 1);
  }

  /**
   * A lost Redis fails at once (ioredis would queue the command until it reconnects, holding the request), a
   * slow or not yet connected one after the deadline: either way the caller gets 503 QUEUE_UNAVAILABLE.
   */
  private withDeadline<T>(send: () => Promise<T>): Promise<T> {
    const unavailable = () =>
      new ServiceUnavailableAppException('QUEUE_UNAVAILABLE', 'Redis is unreachable; retry shortly');
    if (DOWN.has(this.redis.status)) return Promise.reject(unavailable());
    const command = send();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable()), REDIS_DEADLINE_MS);
    });
    command.catch(() => undefined);
    return Promise.race([command, deadline]).finally(() => clearTimeout(timer));
  }

  async consume(policies: Policy[]): Promise<Decision> {
    const args = policies.flatMap((p) => [
      `${this.config.QUEUE_PREFIX}:rl:${p.name}:${p.subject}`,
      p.limit,
      p.windowSeconds * 1000,
    ]);
    const reply = (await this.withDeadline(() =>
      // The one key names the slot (Redis Cluster routes the script by it; the keys it builds share its hash tag).
      this.script(`${this.config.QUEUE_PREFIX}:rl`, policies.length, ...args),
    )) as Array<number | string>;
    if (reply[0] === 0) {
      const index = Number(reply[1]);
      const states = policies.map((p, i) => ({
        ...p,
        remaining: i === index ? 0 : p.limit,
        resetSeconds: i === index ? Math.ceil(Number(reply[3]) / 1000) : p.windowSeconds,
      }));
      return { allowed: false, blocked: states[index], states };
    }
    const keys: string[] = [];
    const states = policies.map((p, i) => {
      keys.push(String(reply[1 + i * 3]));
      const count = Number(reply[2 + i * 3]);
      return {
        ...p,
        remaining: Math.max(0, p.limit - count),
        resetSeconds: Math.ceil(Number(reply[3 + i * 3]) / 1000),
      };
    });
    return { allowed: true, states, keys };
  }

  /** Gives back a counted request (its response turned out to be a 401/403). */
  async refund(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.decr(key);
    await pipeline.exec();
  }
}
