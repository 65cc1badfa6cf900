import { IsInt, Max, Min } from 'class-validator';

/** The WebSocket endpoints (`/ws/runs/{run_id}`, `/ws/realtime`). */
export class RealtimeConfig {
  /** How often each socket is pinged; a peer that has not answered the previous ping is dropped. */
  @IsInt()
  @Min(100)
  WS_HEARTBEAT_MS: number = 30_000;

  /** How long a socket without `?access_token=` has to send `{"type":"auth","token":...}`. */
  @IsInt()
  @Min(100)
  WS_AUTH_TIMEOUT_MS: number = 5_000;

  /** Bytes a client may leave unread in its send buffer before it is disconnected as too slow. */
  @IsInt()
  @Min(1024)
  WS_MAX_BUFFERED_BYTES: number = 1024 * 1024;

  /** Largest frame a client may send (a `publish` with its message). */
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  WS_MAX_MESSAGE_BYTES: number = 64 * 1024;

  /** Topics one `/ws/realtime` socket may subscribe to. */
  @IsInt()
  @Min(1)
  WS_MAX_TOPICS: number = 100;

  /** `publish` frames per tenant per minute, over all its sockets on every API process (counted in Redis). */
  @IsInt()
  @Min(1)
  WS_PUBLISH_PER_MINUTE: number = 3000;

  /**
   * Frames one socket may send per second (subscribe and unsubscribe included); past it a frame gets a
   * `RATE_LIMITED` error frame, and a socket sending five seconds' worth within one second is closed (1008).
   */
  @IsInt()
  @Min(1)
  WS_FRAMES_PER_SECOND: number = 50;

  /**
   * Frames all of one tenant's sockets on one API process may send per second together (subscribe and
   * unsubscribe included): many sockets each within their own budget still cannot flood the process.
   */
  @IsInt()
  @Min(1)
  WS_TENANT_FRAMES_PER_SECOND: number = 500;

  /** Sockets one tenant may hold open on one API process; past it the new socket is closed with 4429. */
  @IsInt()
  @Min(1)
  WS_MAX_CONNECTIONS_PER_TENANT: number = 200;

  /** A run stream that heard nothing for this long checks the database for events it may have missed. */
  @IsInt()
  @Min(100)
  WS_RESYNC_IDLE_MS: number = 10_000;

  /** How often `telemetry` subscribers get a metrics snapshot. */
  @IsInt()
  @Min(100)
  TELEMETRY_INTERVAL_MS: number = 5_000;
}
