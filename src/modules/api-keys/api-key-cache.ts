import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BroadcastCache } from '../../core/cache/broadcast-cache';
import type { Principal } from '../../core/auth/principal';
import { AuthConfig } from '../../core/config/auth.config';
import { RedisConfig } from '../../core/config/redis.config';
import { EventSubscriber } from '../../core/events/event-subscriber';
import { InjectRedis } from '../../core/queue/redis.provider';

const TOUCH_EVERY_MS = 60_000;

interface CachedKey {
  principal: Principal;
  touchedAt: number;
}

/**
 * Verified API keys, per process, for AUTH_API_KEY_CACHE_MS, keyed by the SHA-256 of the whole key: a busy key
 * costs no database read per request. A revocation is published on Redis before the revoking request answers,
 * and every process drops the key on hearing it, so it fails at its next use everywhere.
 */
@Injectable()
export class ApiKeyCache extends BroadcastCache<CachedKey> {
  constructor(
    config: AuthConfig,
    redisConfig: RedisConfig,
    @InjectRedis() redis: Redis,
    subscriber: EventSubscriber,
  ) {
    super(
      {
        ttlMs: config.AUTH_API_KEY_CACHE_MS,
        channel: `${redisConfig.QUEUE_PREFIX}:api-keys:revoked`,
        maxEntries: 10_000,
        name: 'ApiKeyCache',
      },
      redis,
      subscriber,
    );
  }

  protected covers(message: unknown, _hash: string, cached: CachedKey): boolean {
    return cached.principal.api_key_id === (message as { api_key_id?: unknown }).api_key_id;
  }

  /** The cached principal, and whether this use should be recorded (`last_used_at`, once a minute). */
  principalOf(hash: string): { principal: Principal; touch: boolean } | undefined {
    const cached = this.get(hash);
    if (!cached) return undefined;
    const now = Date.now();
    const touch = now - cached.touchedAt >= TOUCH_EVERY_MS;
    if (touch) cached.touchedAt = now;
    return { principal: cached.principal, touch };
  }

  remember(hash: string, principal: Principal, mark: number): void {
    this.set(hash, { principal, touchedAt: Date.now() }, mark);
  }

  /** Call once the revocation committed: this process forgets the key now, every other one on the message. */
  revoked(apiKeyId: string): Promise<void> {
    return this.invalidate({ api_key_id: apiKeyId });
  }
}
