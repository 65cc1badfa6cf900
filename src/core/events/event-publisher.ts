import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../config/redis.config';
import { InjectRedis, scriptCommand } from '../queue/redis.provider';

/** A committed state change of a resource (a run's step completed, an audit event appended). */
export interface DomainEvent {
  tenant_id: string;
  /** `runs`, `audit` now; `pipelines`, `documents` as those modules arrive. */
  topic: string;
  /** The resource the event is about (a run id). */
  resource_id: string;
  type: string;
  seq?: number;
  step_id?: string | null;
  data: Record<string, unknown>;
  timestamp: string;
}

/** What travels on the channels: the event or a client's topic message, stamped when it was published. */
export type PublishedEvent = DomainEvent & { published_at: number };
export interface PublishedMessage {
  topic: string;
  msg: unknown;
  published_at: number;
}

/**
 * Publishes committed state changes on Redis pub/sub, for every API instance's sockets to relay: one channel per
 * resource (`<prefix>:events:<topic>:<id>`) and one per tenant topic (`<prefix>:tenant:<tenant>:<topic>`).
 * Published after commit and never relied on alone: the database's event log is the record.
 */
/** Channel, message, channel, message, ...: every PUBLISH of a batch in one command. */
const PUBLISH_ALL = `for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end`;

@Injectable()
export class EventPublisher {
  private readonly logger = new Logger('EventPublisher');
  /** One script call per batch rather than a pipeline (ioredis copies every script of the connection into each). */
  private readonly publishAll: (...args: Array<string | number>) => Promise<unknown>;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly config: RedisConfig,
  ) {
    this.publishAll = scriptCommand(redis, 'confluxPublishAll', PUBLISH_ALL, 0);
  }

  resourceChannel(topic: string, id: string): string {
    return `${this.config.QUEUE_PREFIX}:events:${topic}:${id}`;
  }

  tenantChannel(tenantId: string, topic: string): string {
    return `${this.config.QUEUE_PREFIX}:tenant:${tenantId}:${topic}`;
  }

  /** Process-to-process signals (cancel: abort a run's steps wherever they execute). */
  controlChannel(): string {
    return `${this.config.QUEUE_PREFIX}:control`;
  }

  async publishControl(message: Record<string, unknown>): Promise<void> {
    await this.redis
      .publish(this.controlChannel(), JSON.stringify(message))
      .catch((error: Error) => this.logger.warn(`control not published: ${error.message}`));
  }

  async publish(events: DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const publishedAt = Date.now();
    const args = events.flatMap((event) => {
      const message = JSON.stringify({ ...event, published_at: publishedAt } satisfies PublishedEvent);
      return [
        this.resourceChannel(event.topic, event.resource_id),
        message,
        this.tenantChannel(event.tenant_id, event.topic),
        message,
      ];
    });
    await this.publishAll(...args).catch((error: Error) =>
      this.logger.warn(`events not published: ${error.message}`),
    );
  }

  /** A message on a tenant topic of the tenant's own (not a domain event): relayed as it is. */
  async publishMessage(tenantId: string, topic: string, msg: unknown): Promise<void> {
    const message: PublishedMessage = { topic, msg, published_at: Date.now() };
    await this.redis.publish(this.tenantChannel(tenantId, topic), JSON.stringify(message));
  }
}
