import type { RunEventResponse } from '../runs/dto/run.dto';
import type { RunSnapshot } from '../runs/runs.service';
import type { EventFrame, SnapshotFrame } from './dto/frames';

/** An event ready to go out: its frame is serialised once however many sockets watch the run. */
export interface StreamEvent {
  seq: number;
  frame: string;
  /** Set when it came through pub/sub: when it was published, for the delivery latency metric. */
  publishedAt?: number;
  /** The run is over for good after this event (completed or cancelled; a failed run may be retried). */
  final: boolean;
}

export interface RunStreamSource {
  snapshot(): Promise<RunSnapshot>;
  /** Events after `seq`, oldest first, at most `limit`. */
  eventsAfter(seq: number, limit: number): Promise<RunEventResponse[]>;
}

export interface RunStreamSink {
  send(frame: string, publishedAt?: number): void;
  fail(error: unknown): void;
}

const PAGE = 1000;
const FINAL_STATUSES = ['completed', 'cancelled'];

export function toStreamEvent(event: RunEventResponse, publishedAt?: number): StreamEvent {
  const frame: EventFrame = { type: 'event', ...event };
  return {
    seq: event.seq,
    frame: JSON.stringify(frame),
    publishedAt,
    final: FINAL_STATUSES.some((status) => event.event_type === `run.${status}`),
  };
}

/**
 * The SPEC's run stream for one socket: a snapshot, then every later event exactly once and in `seq` order.
 *
 * The caller subscribes to the run's channel first and feeds `offer()` while `start()` reads the snapshot, so no
 * event can fall between the two: those at or below the snapshot's `last_seq` are already in it and are dropped.
 * Pub/sub may lose a message (a reconnect, a failed publish) or deliver two workers' publishes out of order, so
 * an event that leaves a gap is preceded by the missing ones, read from the database; repeats are dropped. A
 * stream that heard nothing for a while checks the database too, unless its run is over.
 */
export class RunStream {
  private lastSeq?: number;
  private readonly held: StreamEvent[] = [];
  private chain: Promise<void> = Promise.resolve();
  private over = false;
  private lastHeard = Date.now();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    private readonly source: RunStreamSource,
    private readonly sink: RunStreamSink,
    idleMs: number,
  ) {
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastHeard >= idleMs && !this.over) this.resync();
    }, idleMs).unref();
  }

  start(): void {
    this.serially(async () => {
      const snapshot = await this.source.snapshot();
      this.sink.send(JSON.stringify({ type: 'snapshot', ...snapshot } satisfies SnapshotFrame));
      this.over = FINAL_STATUSES.includes(snapshot.run.status);
      this.lastSeq = snapshot.last_seq;
      for (const event of this.held.splice(0).sort((a, b) => a.seq - b.seq)) await this.deliver(event);
    });
  }

  offer(event: StreamEvent): void {
    this.lastHeard = Date.now();
    if (this.lastSeq === undefined) this.held.push(event);
    else this.serially(() => this.deliver(event));
  }

  /** Whatever was published while nobody listened is in the database. */
  resync(): void {
    this.lastHeard = Date.now();
    if (this.lastSeq !== undefined) this.serially(() => this.catchUp());
  }

  close(): void {
    clearInterval(this.idleTimer);
  }

  private async deliver(event: StreamEvent): Promise<void> {
    if (event.seq > (this.lastSeq as number) + 1) await this.catchUp();
    if (event.seq === (this.lastSeq as number) + 1) this.emit(event);
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const before = this.lastSeq;
      const page = await this.source.eventsAfter(this.lastSeq as number, PAGE);
      for (const event of page)
        if (event.seq === (this.lastSeq as number) + 1) this.emit(toStreamEvent(event));
      if (page.length < PAGE || this.lastSeq === before) return;
    }
  }

  private emit(event: StreamEvent): void {
    this.sink.send(event.frame, event.publishedAt);
    this.lastSeq = event.seq;
    if (event.final) this.over = true;
  }

  private serially(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((error: unknown) => {
      this.close();
      this.sink.fail(error);
    });
  }
}
