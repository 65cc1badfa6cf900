import { Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import type { Principal } from '../../core/auth/principal';
import { AppException } from '../../core/http/app.exception';
import type { ErrorFrame } from './dto/frames';
import { AuthFrameFirstException } from './realtime.exceptions';

export type Endpoint = 'runs' | 'realtime';

/** A slow reader's close code: the server is fine, this client could not keep up; reconnecting is safe. */
export const SLOW_CLIENT_CLOSE = 1013;
const INTERNAL_ERROR_CLOSE = 1011;
/** The API process is shutting down (a rolling restart): reconnecting, to another replica, is the fix. */
export const SERVICE_RESTART_CLOSE = 1012;
/** A client that keeps sending far over its frame budget is closed as a policy violation. */
export const FRAME_FLOOD_CLOSE = 1008;
const MAX_REASON_BYTES = 123;

/** Frames over time: refilled at `rate` a second, holding at most a second's worth. */
export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(readonly rate: number) {
    this.tokens = rate;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface WsClientHooks {
  maxBufferedBytes: number;
  framesPerSecond: number;
  /** A frame carrying a published event was written: `publishedAt` is when it was published. */
  delivered(publishedAt: number): void;
  slow(): void;
}

/**
 * One connected socket: its handshake, a send bounded by what the client has left unread, the frames it sent
 * handled one at a time in arrival order, and what to release when it goes. Close codes are 4000 plus the HTTP
 * status of the exception (4401 bad credentials, 4403 another tenant's run, 4404 unknown run).
 */
export class WsClient {
  private static readonly logger = new Logger('WsClient');
  /** Answered the last ping (or has not been pinged yet). */
  alive = true;
  /** Settles once the handshake succeeded or failed (in which case the socket is being closed). */
  authenticated!: Promise<Principal>;
  /** Set while the socket owes its first `auth` frame. */
  acceptToken?: (token: unknown) => void;
  private tasks: Promise<void> = Promise.resolve();
  /** The frames this socket sends. */
  private readonly frames: TokenBucket;
  /** The frames all of its tenant's sockets on this process send, once the socket is authenticated. */
  tenantFrames?: TokenBucket;
  private readonly releases: Array<() => Promise<void> | void> = [];
  private released = false;

  constructor(
    readonly socket: WebSocket,
    readonly endpoint: Endpoint,
    readonly query: URLSearchParams,
    private readonly hooks: WsClientHooks,
  ) {
    this.frames = new TokenBucket(hooks.framesPerSecond);
    this.watchForFlood();
  }

  /**
   * Ahead of every other listener: a client sending more than five seconds' budget within one second is closed
   * and its remaining frames are dropped unread, before the framework parses and dispatches each of them.
   */
  private watchForFlood(): void {
    let windowStart = Date.now();
    let frames = 0;
    this.socket.prependListener('message', () => {
      const now = Date.now();
      if (now - windowStart >= 1000) [windowStart, frames] = [now, 0];
      frames += 1;
      if (frames <= 5 * this.hooks.framesPerSecond) return;
      this.socket.removeAllListeners('message');
      this.close(FRAME_FLOOD_CLOSE, `more than ${5 * this.hooks.framesPerSecond} frames in a second`);
      setTimeout(() => this.socket.terminate(), 1000).unref();
    });
  }

  /**
   * Writes a frame unless the client already has more than the bound unread: then it is disconnected instead, so
   * a slow reader costs at most the bound plus one frame.
   */
  send(frame: string, publishedAt?: number): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.socket.bufferedAmount > this.hooks.maxBufferedBytes) {
      this.hooks.slow();
      this.close(SLOW_CLIENT_CLOSE, `slow client: more than ${this.hooks.maxBufferedBytes} bytes unread`);
      // A reader that stopped reading will not read the close frame either.
      setTimeout(() => this.socket.terminate(), 1000).unref();
      return;
    }
    this.socket.send(frame);
    if (publishedAt !== undefined) this.hooks.delivered(publishedAt);
  }

  sendJson(frame: object): void {
    this.send(JSON.stringify(frame));
  }

  /** The handshake and anything that must succeed for the socket to be useful: a failure closes it. */
  run(task: () => Promise<void>): void {
    this.tasks = this.tasks.then(task).catch((error: unknown) => this.fail(error));
  }

  /** A client frame: its reply is sent back; a coded failure is answered with an error frame, not a close. */
  request(task: () => Promise<object>): void {
    if (this.acceptToken) return this.fail(new AuthFrameFirstException());
    if (!this.takeFrame()) return;
    this.tasks = this.tasks.then(async () => {
      try {
        this.sendJson(await task());
      } catch (error) {
        if (!(error instanceof AppException) || error.getStatus() === 401) return this.fail(error);
        this.sendJson({ type: 'error', error_code: error.code, message: error.message } satisfies ErrorFrame);
      }
    });
  }

  /** Whether the frame fits the socket's budget and its tenant's; answers RATE_LIMITED when it does not. */
  private takeFrame(): boolean {
    const now = Date.now();
    const over = !this.frames.take(now)
      ? `${this.frames.rate} frames per second per socket`
      : this.tenantFrames && !this.tenantFrames.take(now)
        ? `${this.tenantFrames.rate} frames per second over all of the tenant's sockets on this server`
        : undefined;
    if (!over) return true;
    this.sendJson({
      type: 'error',
      error_code: 'RATE_LIMITED',
      message: `At most ${over}; this frame was not handled`,
    } satisfies ErrorFrame);
    return false;
  }

  fail(error: unknown): void {
    if (error instanceof AppException) return this.close(4000 + error.getStatus(), error.message);
    WsClient.logger.error(`socket closed on an unexpected error: ${(error as Error).stack ?? String(error)}`);
    this.close(INTERNAL_ERROR_CLOSE, 'internal error');
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.close(code, truncate(reason));
  }

  /** `release` runs when the socket goes (at once if it has gone already). */
  own(release: () => Promise<void> | void): void {
    if (this.released) void release();
    else this.releases.push(release);
  }

  async release(): Promise<void> {
    this.released = true;
    this.acceptToken = undefined;
    await Promise.all(this.releases.splice(0).map(async (release) => release()));
  }
}

function truncate(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= MAX_REASON_BYTES
    ? reason
    : bytes.subarray(0, MAX_REASON_BYTES - 3).toString() + '...';
}
