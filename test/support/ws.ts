import { WebSocket } from 'ws';
import type { OnboardedTenant } from './auth';
import { withTimeout } from './harness';

export type Frame = Record<string, unknown> & { type?: string; seq?: number; topic?: string };

/**
 * A WebSocket client that keeps every frame it received, in order, and how the socket closed.
 */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.waiters.splice(0)) wake();
      });
      ws.on('error', () => undefined);
    });
  }

  /** Connects to `path` (e.g. `/ws/runs/<id>?access_token=...`) of the API at `baseUrl`. */
  static async open(baseUrl: string, path: string): Promise<TestSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`);
    const socket = new TestSocket(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('close', () => resolve());
      }),
      10_000,
      `${path} to open`,
    );
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame (from `from` on) that matches, waiting for it. */
  async next(match: (frame: Frame) => boolean, what: string, timeoutMs = 15_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async closeCode(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, timeoutMs, 'the socket to close');
  }

  close(): void {
    this.ws.close();
  }
}

export const keyOf = (tenant: OnboardedTenant): string => tenant.ownerKey.headers['x-api-key'];

/** Opens `/ws/runs/<runId>` as the tenant's owner key. */
export function watchRun(baseUrl: string, tenant: OnboardedTenant, runId: string): Promise<TestSocket> {
  return TestSocket.open(baseUrl, `/ws/runs/${runId}?access_token=${encodeURIComponent(keyOf(tenant))}`);
}

const STEP_STATUS_AFTER: Record<string, string> = {
  'step.queued': 'queued',
  'step.retrying': 'queued',
  'step.started': 'running',
  'step.waiting': 'waiting',
  'step.completed': 'completed',
  'step.failed': 'failed',
  'step.skipped': 'skipped',
  'step.cancelled': 'cancelled',
};
const RUN_STATUS_AFTER: Record<string, string> = {
  'run.created': 'pending',
  'run.started': 'running',
  'run.paused': 'paused',
  'run.resumed': 'running',
  'run.retried': 'running',
  'run.completed': 'completed',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
};

export interface StreamState {
  runStatus: string;
  stepStatuses: Record<string, string>;
  lastSeq: number;
  /** The seqs of the event frames after the snapshot, in the order they came. */
  eventSeqs: number[];
}

/** What a client knows of the run: its snapshot with every later event applied, as an SPA would. */
export function reconstruct(frames: Frame[]): StreamState {
  const [snapshot, ...events] = frames;
  if (snapshot?.type !== 'snapshot')
    throw new Error(`the first frame is not a snapshot: ${JSON.stringify(snapshot)}`);
  const state: StreamState = {
    runStatus: (snapshot.run as { status: string }).status,
    stepStatuses: { ...(snapshot.step_statuses as Record<string, string>) },
    lastSeq: snapshot.last_seq as number,
    eventSeqs: [],
  };
  for (const event of events) {
    if (event.type !== 'event') throw new Error(`unexpected frame ${JSON.stringify(event)}`);
    const type = event.event_type as string;
    state.eventSeqs.push(event.seq as number);
    state.lastSeq = event.seq as number;
    if (STEP_STATUS_AFTER[type]) state.stepStatuses[event.step_id as string] = STEP_STATUS_AFTER[type];
    if (RUN_STATUS_AFTER[type]) state.runStatus = RUN_STATUS_AFTER[type];
  }
  return state;
}

export const isTerminalEvent = (frame: Frame): boolean =>
  frame.type === 'event' &&
  ['run.completed', 'run.failed', 'run.cancelled'].includes(frame.event_type as string);
