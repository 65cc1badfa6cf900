import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal';
import { RealtimeConfig } from '../../core/config/realtime.config';
import { EventPublisher, type PublishedEvent } from '../../core/events/event-publisher';
import { EventSubscriber, type Unsubscribe } from '../../core/events/event-subscriber';
import { RateLimiter } from '../../core/http/rate-limit/rate-limiter';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { LogStore } from '../observability/log-store';
import { RunNotFoundException, RunsService } from '../runs/runs.service';
import { RunOfAnotherTenantException } from './realtime.exceptions';
import { RunStream, type RunStreamSink, type StreamEvent, toStreamEvent } from './run-stream';
import { TelemetryService } from './telemetry.service';
import { type FrameSink, TopicSession } from './topic-session';

const STREAM_EVENTS = new WeakMap<object, StreamEvent>();

/** A run channel's message, converted once for every stream of this process watching the run. */
function streamEventOf(payload: PublishedEvent): StreamEvent {
  let event = STREAM_EVENTS.get(payload);
  if (!event) {
    event = toStreamEvent(
      {
        seq: payload.seq as number,
        event_type: payload.type,
        step_id: payload.step_id ?? null,
        data: payload.data,
        timestamp: payload.timestamp,
      },
      payload.published_at,
    );
    STREAM_EVENTS.set(payload, event);
  }
  return event;
}

/** What the sockets offer, without the sockets: run streams and tenant topics. */
@Injectable()
export class RealtimeService {
  constructor(
    private readonly runs: RunsService,
    private readonly publisher: EventPublisher,
    private readonly subscriber: EventSubscriber,
    private readonly telemetry: TelemetryService,
    private readonly logs: LogStore,
    private readonly limiter: RateLimiter,
    private readonly config: RealtimeConfig,
  ) {}

  /**
   * Starts `runId`'s stream into `sink` (404 for an unknown run, 403 for another tenant's; a platform admin may
   * watch any). Resolves with the stream's closer once it is subscribed; the snapshot follows.
   */
  async watchRun(principal: Principal, runId: string, sink: RunStreamSink): Promise<Unsubscribe> {
    const owner = await this.runs.ownerOf(runId);
    if (!owner) throw new RunNotFoundException(runId);
    if (principal.role !== 'admin' && principal.tenant_id !== owner)
      throw new RunOfAnotherTenantException(runId);
    const stream = new RunStream(
      {
        snapshot: () => this.runs.snapshot(owner, runId),
        eventsAfter: (seq, limit) => this.runs.events(owner, runId, seq, limit),
      },
      sink,
      this.config.WS_RESYNC_IDLE_MS,
    );
    try {
      const unsubscribe = await this.subscriber.subscribe(this.publisher.resourceChannel('runs', runId), {
        message: (payload) => stream.offer(streamEventOf(payload as PublishedEvent)),
        resync: () => stream.resync(),
      });
      stream.start();
      return async () => {
        stream.close();
        await unsubscribe();
      };
    } catch (error) {
      stream.close();
      throw error;
    }
  }

  /** The tenant's topics for one socket; a platform admin names the tenant with `?tenant_id=`. */
  openTopics(principal: Principal, requestedTenant: string | undefined, send: FrameSink): TopicSession {
    return new TopicSession(resolveTenant(principal, requestedTenant), principal, send, {
      subscriber: this.subscriber,
      publisher: this.publisher,
      telemetry: this.telemetry,
      logs: this.logs,
      limiter: this.limiter,
      config: this.config,
    });
  }
}
