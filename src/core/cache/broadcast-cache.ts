import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { EventSubscriber } from '../events/event-subscriber';

export interface BroadcastCacheOptions {
  /** How long an entry is believed; 0 turns the cache off (every `get` misses, nothing is kept). */
  ttlMs: number;
  /** The Redis pub/sub channel invalidations travel on. */
  channel: string;
  maxEntries: number;
  name: string;
}

/**
 * A per-process cache of what the database says, for a short TTL, whose invalidations reach every process:
 * `invalidate` drops the matching entries here at once and publishes the message, and every other process drops
 * them on hearing it. A load that started before an invalidation was heard is not kept (`mark` before the load,
 * `set` with that mark), so a process never caches what an invalidation has just replaced. When the subscription
 * drops, everything is forgotten once it is back (a message may have been missed meanwhile), and the TTL bounds
 * what a lost message could leave behind.
 */
export abstract class BroadcastCache<V> implements OnApplicationBootstrap {
  protected readonly logger: Logger;
  private readonly entries = new Map<string, { value: V; until: number }>();
  /** Bumped by every invalidation heard. */
  private generation = 0;

  constructor(
    private readonly options: BroadcastCacheOptions,
    private readonly redis: Redis,
    private readonly subscriber: EventSubscriber,
  ) {
    this.logger = new Logger(options.name);
  }

  /** Whether an invalidation `message` covers the entry at `key`. */
  protected abstract covers(message: unknown, key: string, value: V): boolean;

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.ttlMs === 0) return;
    await this.subscriber.subscribe(this.options.channel, {
      message: (payload) => this.forget((key, value) => this.covers(payload, key, value)),
      resync: () => this.forget(() => true),
    });
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** A token to hand back to `set`, taken before the database read. */
  mark(): number {
    return this.generation;
  }

  set(key: string, value: V, mark: number): void {
    if (this.options.ttlMs === 0 || mark !== this.generation) return;
    if (this.entries.size >= this.options.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: Date.now() + this.options.ttlMs });
  }

  /** The cached value of `key`, or `load()`'s (kept unless an invalidation was heard while it ran). */
  async through(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const mark = this.mark();
    const value = await load();
    this.set(key, value, mark);
    return value;
  }

  /** Call once the change committed: this process forgets now, every other one on the message. */
  protected async invalidate(message: object): Promise<void> {
    this.forget((key, value) => this.covers(message, key, value));
    await this.redis
      .publish(this.options.channel, JSON.stringify(message))
      .catch((error: Error) =>
        this.logger.warn(
          `invalidation not published (other processes see the change within the TTL): ${error.message}`,
        ),
      );
  }

  private forget(covered: (key: string, value: V) => boolean): void {
    this.generation += 1;
    for (const [key, entry] of this.entries) if (covered(key, entry.value)) this.entries.delete(key);
  }
}
