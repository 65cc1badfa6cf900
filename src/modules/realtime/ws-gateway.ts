import { ConnectedSocket, MessageBody, type OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import type { WsConnections } from './ws-connections';

/** What both gateways do alike: take a socket's `auth` frame, and let go of it when it closes. */
export abstract class WsGateway implements OnGatewayDisconnect {
  constructor(protected readonly connections: WsConnections) {}

  handleDisconnect(socket: WebSocket): void {
    this.connections.closed(socket);
  }

  @SubscribeMessage('auth')
  auth(@ConnectedSocket() socket: WebSocket, @MessageBody() token: unknown): void {
    this.connections.offerToken(socket, token);
  }
}
