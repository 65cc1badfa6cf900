import type { IncomingMessage } from 'node:http';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { AuthenticationRequiredException } from '../../core/auth/auth.exceptions';
import { Authenticator } from '../../core/auth/authenticator';
import type { Principal } from '../../core/auth/principal';
import { AuthConfig } from '../../core/config/auth.config';
import { RealtimeConfig } from '../../core/config/realtime.config';
import { MetricsService } from '../../core/metrics/metrics.service';
import { AuthTimeoutException, TooManySocketsException } from './realtime.exceptions';
import { type Endpoint, SERVICE_RESTART_CLOSE, TokenBucket, WsClient } from './ws-client';

/**
 * Every socket of this process, whichever gateway took it: the handshake (`?access_token=`, else a first `auth`
 * frame within WS_AUTH_TIMEOUT_MS), the heartbeat (a ping every WS_HEARTBEAT_MS; a peer that did not answer the
 * last one is dropped) and the connection metrics.
 */
@Injectable()
export class WsConnections implements OnModuleInit, OnModuleDestroy {
  private readonly clients = new Map<WebSocket, WsClient>();
  /** Open sockets per tenant on this process, counted once authenticated, and the frames they share. */
  private readonly perTenant = new Map<string, { open: number; frames: TokenBucket }>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly config: RealtimeConfig,
    private readonly auth: AuthConfig,
    private readonly authenticator: Authenticator,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.heartbeat = setInterval(() => this.beat(), this.config.WS_HEARTBEAT_MS).unref();
  }

  /** On shutdown every socket is told to reconnect (1012), so clients move to another replica at once. */
  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients.values())
      client.close(SERVICE_RESTART_CLOSE, 'server restarting: reconnect');
  }

  open(socket: WebSocket, request: IncomingMessage, endpoint: Endpoint): WsClient {
    const client = new WsClient(
      socket,
      endpoint,
      new URL(request.url ?? '/', 'ws://localhost').searchParams,
      {
        maxBufferedBytes: this.config.WS_MAX_BUFFERED_BYTES,
        framesPerSecond: this.config.WS_FRAMES_PER_SECOND,
        delivered: (publishedAt) =>
          this.metrics.wsDeliveryLatency.observe({ endpoint }, Math.max(0, Date.now() - publishedAt) / 1000),
        slow: () => this.metrics.wsSlowClients.inc({ endpoint }),
      },
    );
    this.clients.set(socket, client);
    this.metrics.wsConnections.inc({ endpoint });
    socket.on('pong', () => (client.alive = true));
    const token = client.query.get('access_token');
    client.authenticated =
      token !== null || this.auth.AUTH_BYPASS
        ? this.authenticator.authenticateToken(token ?? '')
        : this.authFrame(client);
    client.authenticated.then(
      (principal) => this.count(client, principal),
      (error: unknown) => client.fail(error),
    );
    return client;
  }

  get(socket: WebSocket): WsClient | undefined {
    return this.clients.get(socket);
  }

  /** An `auth` frame: the token, if the socket owes one; ignored otherwise. */
  offerToken(socket: WebSocket, token: unknown): void {
    this.clients.get(socket)?.acceptToken?.(token);
  }

  closed(socket: WebSocket): void {
    const client = this.clients.get(socket);
    if (!client) return;
    this.clients.delete(socket);
    this.metrics.wsConnections.dec({ endpoint: client.endpoint });
    void client.release();
  }

  /** Holds the tenant's socket count while the socket is open; over the cap, the socket is refused. */
  private count(client: WsClient, principal: Principal): void {
    const tenant = principal.tenant_id ?? client.query.get('tenant_id') ?? `platform:${principal.via}`;
    const sockets = this.perTenant.get(tenant) ?? {
      open: 0,
      frames: new TokenBucket(this.config.WS_TENANT_FRAMES_PER_SECOND),
    };
    const open = (sockets.open += 1);
    this.perTenant.set(tenant, sockets);
    client.tenantFrames = sockets.frames;
    client.own(() => {
      sockets.open -= 1;
      if (sockets.open === 0) this.perTenant.delete(tenant);
    });
    if (open > this.config.WS_MAX_CONNECTIONS_PER_TENANT)
      client.fail(new TooManySocketsException(this.config.WS_MAX_CONNECTIONS_PER_TENANT));
  }

  private authFrame(client: WsClient): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AuthTimeoutException(this.config.WS_AUTH_TIMEOUT_MS)),
        this.config.WS_AUTH_TIMEOUT_MS,
      );
      client.own(() => clearTimeout(timer));
      client.acceptToken = (token) => {
        clearTimeout(timer);
        client.acceptToken = undefined;
        if (typeof token !== 'string' || !token) return reject(new AuthenticationRequiredException());
        this.authenticator.authenticateToken(token).then(resolve, reject);
      };
    });
  }

  private beat(): void {
    for (const [socket, client] of this.clients) {
      if (!client.alive) {
        socket.terminate();
        continue;
      }
      client.alive = false;
      socket.ping();
    }
  }
}
