import type { IncomingMessage } from 'node:http';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { InvalidFrameException } from './realtime.exceptions';
import { RealtimeService } from './realtime.service';
import type { TopicSession } from './topic-session';
import { WsConnections } from './ws-connections';
import { WsGateway } from './ws-gateway';

/** `WS /ws/realtime`: subscribe, unsubscribe and publish on the tenant's topics. Transport only. */
@WebSocketGateway({ path: '/ws/realtime' })
export class RealtimeGateway extends WsGateway implements OnGatewayConnection {
  private readonly sessions = new WeakMap<WebSocket, TopicSession>();

  constructor(
    connections: WsConnections,
    private readonly realtime: RealtimeService,
  ) {
    super(connections);
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const client = this.connections.open(socket, request, 'realtime');
    client.run(async () => {
      const principal = await client.authenticated;
      const tenant = client.query.get('tenant_id') ?? undefined;
      const session = this.realtime.openTopics(principal, tenant, (frame, at) => client.send(frame, at));
      this.sessions.set(socket, session);
      client.own(() => session.close());
    });
  }

  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: WebSocket, @MessageBody() topic: unknown): void {
    this.request(socket, (session) => session.subscribe(topic));
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: WebSocket, @MessageBody() topic: unknown): void {
    this.request(socket, (session) => session.unsubscribe(topic));
  }

  @SubscribeMessage('publish')
  publish(@ConnectedSocket() socket: WebSocket, @MessageBody() body: unknown): void {
    this.request(socket, (session) => session.publish(body));
  }

  @SubscribeMessage('invalid')
  invalid(@ConnectedSocket() socket: WebSocket, @MessageBody() reason: string): void {
    this.request(socket, () => Promise.reject(new InvalidFrameException(reason)));
  }

  /** Frames are handled after the handshake and one at a time, in the order they came. */
  private request(socket: WebSocket, action: (session: TopicSession) => Promise<object>): void {
    this.connections.get(socket)?.request(async () => {
      const session = this.sessions.get(socket);
      if (!session) throw new InvalidFrameException('The socket is not ready');
      return action(session);
    });
  }
}
