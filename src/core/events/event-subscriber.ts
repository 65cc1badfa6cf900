import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRedis } from '../queue/redis.provider';

export interface ChannelListener {
  /** A message, parsed once and shared by every listener of the channel: read it, never change it. */
  message(payload: unknown): void;
  /** The connection dropped and came back: whatever was published meanwhile is lost, so catch up. */
  resync?(): void;
}

export type Unsubscribe = () => Promise<void>;

/**
 * One Redis subscriber connection per process, shared by every listener: a channel is subscribed once however
 * many listeners it has, and `subscribe` resolves once Redis confirmed it, so nothing published afterwards is
 * missed. Pub/sub keeps nothing while a connection is down, hence `resync`.
 */
@Injectable()
export class EventSubscriber implements OnApplicationShutdown {
  private readonly logger = new Logger('EventSubscriber');
  private connection?: Redis;
  private ready?: Promise<Redis>;
  private readonly channels = new Map<string, { listeners: Set<ChannelListener>; ready: Promise<unknown> }>();

  constructor(@InjectRedis() private readonly redis: Redis) {}

  async subscribe(channel: string, listener: ChannelListener): Promise<Unsubscribe> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = {
        listeners: new Set(),
        ready: this.connect().then((connection) => connection.subscribe(channel)),
      };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const subscribed = entry;
    try {
      await subscribed.ready;
    } catch (error) {
      await this.remove(channel, listener);
      throw error;
    }
    return () => this.remove(channel, listener);
  }

  /** Channels with at least one listener in this process. */
  get channelCount(): number {
    return this.channels.size;
  }

  async onApplicationShutdown(): Promise<void> {
    this.channels.clear();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }

  private async remove(channel: string, listener: ChannelListener): Promise<void> {
    const entry = this.channels.get(channel);
    if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.channels.delete(channel);
    await this.connection?.unsubscribe(channel).catch(() => undefined);
  }

  /** Resolves once the connection is ready: a SUBSCRIBE sent earlier would break ioredis's own ready check. */
  private connect(): Promise<Redis> {
    if (this.ready) return this.ready;
    const connection = this.redis.duplicate();
    let connectedBefore = false;
    connection.on('ready', () => {
      if (connectedBefore)
        for (const entry of this.channels.values()) this.each(entry.listeners, (l) => l.resync?.());
      connectedBefore = true;
    });
    connection.on('error', (error: Error) => this.logger.warn(`subscriber: ${error.message}`));
    connection.on('message', (channel: string, raw: string) => {
      const entry = this.channels.get(channel);
      if (!entry) return;
      let payload: unknown;
      try {
        payload = JSON.parse(raw);
      } catch {
        this.logger.warn(`malformed message on ${channel}`);
        return;
      }
      this.each(entry.listeners, (listener) => listener.message(payload));
    });
    this.connection = connection;
    this.ready = new Promise<Redis>((resolve, reject) => {
      connection.once('ready', () => resolve(connection));
      connection.once('end', () => reject(new Error('the Redis subscriber connection closed')));
    });
    return this.ready;
  }

  private each(listeners: Set<ChannelListener>, call: (listener: ChannelListener) => void): void {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        this.logger.error(`listener failed: ${(error as Error).message}`);
      }
    }
  }
}
