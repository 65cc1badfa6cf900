import { InsufficientPermissionsException } from '../../core/auth/auth.exceptions';
import { hasRole, type Principal } from '../../core/auth/principal';
import type { RealtimeConfig } from '../../core/config/realtime.config';
import type { EventPublisher, PublishedEvent, PublishedMessage } from '../../core/events/event-publisher';
import type { EventSubscriber, Unsubscribe } from '../../core/events/event-subscriber';
import { RateLimitedException } from '../../core/http/rate-limit/request-budgets';
import type { RateLimiter } from '../../core/http/rate-limit/rate-limiter';
import type { LogStore } from '../observability/log-store';
import type { AckFrame, TopicFrame } from './dto/frames';
import { InvalidFrameException, SystemTopicException } from './realtime.exceptions';
import type { TelemetryService } from './telemetry.service';
import type { TenantId } from '../../core/tenancy/tenant-id';

/** Fed by Conflux itself; clients may subscribe but not publish. */
export const SYSTEM_TOPICS = ['runs', 'pipelines', 'documents', 'audit', 'telemetry', 'logs'];
const TOPIC = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export type FrameSink = (frame: string, publishedAt?: number) => void;

export interface TopicDeps {
  subscriber: EventSubscriber;
  publisher: EventPublisher;
  telemetry: TelemetryService;
  logs: LogStore;
  limiter: RateLimiter;
  config: RealtimeConfig;
}

const FRAMES = new WeakMap<object, string>();

/** A channel message as the `{topic, msg, ts}` frame, serialised once for every socket that receives it. */
export function topicFrameOf(payload: PublishedEvent | PublishedMessage): string {
  let frame = FRAMES.get(payload);
  if (frame) return frame;
  const ts = new Date(payload.published_at).toISOString();
  const msg =
    'msg' in payload
      ? payload.msg
      : {
          resource_id: payload.resource_id,
          event_type: payload.type,
          seq: payload.seq ?? null,
          step_id: payload.step_id ?? null,
          data: payload.data,
          timestamp: payload.timestamp,
        };
  frame = JSON.stringify({ topic: payload.topic, msg, ts } satisfies TopicFrame);
  FRAMES.set(payload, frame);
  return frame;
}

/**
 * One `/ws/realtime` socket's topics. Every topic is the tenant's own (`<prefix>:tenant:<tenant>:<topic>`), so
 * a tenant can neither hear nor reach another's, whatever name it asks for.
 */
export class TopicSession {
  private readonly topics = new Map<string, Unsubscribe>();

  constructor(
    readonly tenantId: TenantId,
    private readonly principal: Principal,
    private readonly send: FrameSink,
    private readonly deps: TopicDeps,
  ) {}

  async subscribe(topic: unknown): Promise<AckFrame> {
    const name = topicName(topic);
    if (!this.topics.has(name)) {
      if (this.topics.size >= this.deps.config.WS_MAX_TOPICS)
        throw new InvalidFrameException(`At most ${this.deps.config.WS_MAX_TOPICS} topics per socket`);
      this.topics.set(name, await this.listen(name));
    }
    return { type: 'subscribed', topic: name };
  }

  async unsubscribe(topic: unknown): Promise<AckFrame> {
    const name = topicName(topic);
    const unsubscribe = this.topics.get(name);
    this.topics.delete(name);
    await unsubscribe?.();
    return { type: 'unsubscribed', topic: name };
  }

  async publish(body: unknown): Promise<AckFrame> {
    if (typeof body !== 'object' || body === null || !('msg' in body))
      throw new InvalidFrameException('publish takes {"topic": "...", "msg": <any JSON>}');
    const { topic, msg } = body as { topic?: unknown; msg: unknown };
    const name = topicName(topic);
    if (SYSTEM_TOPICS.includes(name)) throw new SystemTopicException(name);
    if (!hasRole(this.principal, 'member'))
      throw new InsufficientPermissionsException('member', this.principal.role);
    const decision = await this.deps.limiter.consume([
      {
        name: 'ws-publish',
        subject: `tenant:${this.tenantId}`,
        limit: this.deps.config.WS_PUBLISH_PER_MINUTE,
        windowSeconds: 60,
      },
    ]);
    if (!decision.allowed) throw new RateLimitedException(decision.blocked);
    await this.deps.publisher.publishMessage(this.tenantId, name, msg);
    return { type: 'published', topic: name };
  }

  async close(): Promise<void> {
    const unsubscribes = [...this.topics.values()];
    this.topics.clear();
    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
  }

  private async listen(topic: string): Promise<Unsubscribe> {
    if (topic === 'telemetry') {
      const remove = this.deps.telemetry.add(this.tenantId, (frame) => this.send(frame));
      return () => Promise.resolve(remove());
    }
    if (topic === 'logs') {
      // The live tail of the deployment's stored lines (every process, every tenant): platform admins only.
      if (this.principal.role !== 'admin')
        throw new InsufficientPermissionsException('admin', this.principal.role);
      const stop = this.deps.logs.tail((line) => this.send(topicFrameOf(line), line.published_at));
      return () => Promise.resolve(stop());
    }
    return this.deps.subscriber.subscribe(this.deps.publisher.tenantChannel(this.tenantId, topic), {
      message: (payload) => {
        const published = payload as PublishedEvent | PublishedMessage;
        this.send(topicFrameOf(published), published.published_at);
      },
    });
  }
}

function topicName(topic: unknown): string {
  if (typeof topic === 'string' && TOPIC.test(topic)) return topic;
  throw new InvalidFrameException(
    'A topic is 1 to 64 letters, digits or _ . : - (starting with a letter or digit)',
  );
}
