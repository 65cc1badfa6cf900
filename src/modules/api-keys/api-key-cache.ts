import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Principal } from '../../core/auth/principal';
import { AuthConfig } from '../../core/config/auth.config';
import { RedisConfig } from '../../core/config/redis.config';
import { EventSubscriber } from '../../core/events/event-subscriber';
import { InjectRedis } from '../../core/queue/redis.provider';

const MAX_ENTRIES = 10_000;
const TOUCH_EVERY_MS = 60_000;

interface Entry {
  principal: Principal;
  until: number;
  touchedAt: number;
}

/**
 * Verified API keys, per process, for AUTH_API_KEY_CACHE_MS, keyed by the SHA-256 of the whole key: a busy key
 * costs no database read per request. A revocation is published on Redis before the revoking request answers,
 * and every process drops the key on hearing it, so it fails at its next use everywhere. A lookup that raced a
 * revocation is not kept; when the subscription drops, everything is forgotten once it is back (a revocation may
 * have been missed meanwhile), and the TTL bounds what a lost message could leave.
 */
@Injectable()
export class ApiKeyCache implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiKeyCache');
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every revocation heard, so a lookup that started before one is not cached. */
  private generation = 0;

  constructor(
    private readonly config: AuthConfig,
    private readonly redisConfig: RedisConfig,
    @InjectRedis() private readonly redis: Redis,
    private readonly subscriber: EventSubscriber,
  ) {}

  private get channel(): string {
    return `${this.redisConfig.QUEUE_PREFIX}:api-keys:revoked`;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.AUTH_API_KEY_CACHE_MS === 0) return;
    await this.subscriber.subscribe(this.channel, {
      message: (payload) => this.forget((payload as { api_key_id?: unknown }).api_key_id),
      resync: () => this.forgetAll(),
    });
  }

  /** The cached principal, and whether this use should be recorded (`last_used_at`, once a minute). */
  get(hash: string): { principal: Principal; touch: boolean } | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    const now = Date.now();
    if (entry.until <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    const touch = now - entry.touchedAt >= TOUCH_EVERY_MS;
    if (touch) entry.touchedAt = now;
    return { principal: entry.principal, touch };
  }

  /** A token to hand back to `set`, taken before the database lookup. */
  mark(): number {
    return this.generation;
  }

  set(hash: string, principal: Principal, mark: number): void {
    if (this.config.AUTH_API_KEY_CACHE_MS === 0 || mark !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    const now = Date.now();
    this.entries.set(hash, { principal, until: now + this.config.AUTH_API_KEY_CACHE_MS, touchedAt: now });
  }

  /** Call once the revocation committed: this process forgets the key now, every other one on the message. */
  async revoked(apiKeyId: string): Promise<void> {
    this.forget(apiKeyId);
    await this.redis
      .publish(this.channel, JSON.stringify({ api_key_id: apiKeyId }))
      .catch((error: Error) =>
        this.logger.warn(
          `revocation not published (other processes forget it within the TTL): ${error.message}`,
        ),
      );
  }

  private forget(apiKeyId: unknown): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries)
      if (entry.principal.api_key_id === apiKeyId) this.entries.delete(hash);
  }

  private forgetAll(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
