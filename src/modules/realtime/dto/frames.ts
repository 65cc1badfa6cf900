import type { RunEventResponse } from '../../runs/dto/run.dto';
import type { RunSnapshot } from '../../runs/runs.service';

/** `/ws/runs/{run_id}`: first of all, the run as it stands. */
export type SnapshotFrame = { type: 'snapshot' } & RunSnapshot;

/** `/ws/runs/{run_id}`: then every event with `seq > last_seq`, in order, each once. */
export type EventFrame = { type: 'event' } & RunEventResponse;

/** `/ws/realtime`: a message on a subscribed topic. */
export interface TopicFrame {
  topic: string;
  msg: unknown;
  /** When it was published (ISO-8601). */
  ts: string;
}

/** `/ws/realtime`: the answer to a subscribe, unsubscribe or publish frame. */
export interface AckFrame {
  type: 'subscribed' | 'unsubscribed' | 'published';
  topic: string;
}

/** A frame the server could not act on; the socket stays open. The codes are the REST envelope's. */
export interface ErrorFrame {
  type: 'error';
  error_code: string;
  message: string;
}

/** Frames a client sends, by the event name the gateways' handlers subscribe to. */
export type ClientFrame =
  | { event: 'auth'; data: unknown }
  | { event: 'subscribe' | 'unsubscribe' | 'publish'; data: unknown }
  | { event: 'invalid'; data: string };
