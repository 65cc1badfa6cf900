import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BroadcastCache } from '../../core/cache/broadcast-cache';
import { AuthConfig } from '../../core/config/auth.config';
import { RedisConfig } from '../../core/config/redis.config';
import { EventSubscriber } from '../../core/events/event-subscriber';
import { InjectRedis } from '../../core/queue/redis.provider';
import type { PolicyEntity } from './entities/policy.entity';

/**
 * Each tenant's enabled policies, per process, for AUTH_POLICY_CACHE_MS: enforcement on a busy tenant costs no
 * database read per request. A change is published on Redis once committed and before the changing request
 * answers, and every process forgets the tenant's policies on hearing it, so the next request anywhere is judged
 * by the new ones.
 */
@Injectable()
export class PolicyCache extends BroadcastCache<readonly PolicyEntity[]> {
  /**
   * A worker reads no AuthConfig: it enforces no policies (its work has no request principal), so it caches none.
   * The token is named: the type `AuthConfig | undefined` reaches Nest as `Object`, which nothing provides.
   */
  constructor(
    @Optional() @Inject(AuthConfig) config: AuthConfig | undefined,
    redisConfig: RedisConfig,
    @InjectRedis() redis: Redis,
    subscriber: EventSubscriber,
  ) {
    super(
      {
        ttlMs: config?.AUTH_POLICY_CACHE_MS ?? 0,
        channel: `${redisConfig.QUEUE_PREFIX}:policies:changed`,
        maxEntries: 10_000,
        name: 'PolicyCache',
      },
      redis,
      subscriber,
    );
  }

  protected covers(message: unknown, tenantId: string): boolean {
    return (message as { tenant_id?: unknown }).tenant_id === tenantId;
  }

  changed(tenantId: string): Promise<void> {
    return this.invalidate({ tenant_id: tenantId });
  }
}
