import type { IncomingMessage } from 'node:http';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { RealtimeService } from './realtime.service';
import { WsConnections } from './ws-connections';

/** `WS /ws/runs/{run_id}`: a snapshot of the run, then its events. Transport only. */
@WebSocketGateway({ path: '/ws/runs' })
export class RunsGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly connections: WsConnections,
    private readonly realtime: RealtimeService,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const client = this.connections.open(socket, request, 'runs');
    client.run(async () => {
      const principal = await client.authenticated;
      const runId = client.query.get('id') ?? '';
      client.own(await this.realtime.watchRun(principal, runId, client));
    });
  }

  handleDisconnect(socket: WebSocket): void {
    this.connections.closed(socket);
  }

  @SubscribeMessage('auth')
  auth(@ConnectedSocket() socket: WebSocket, @MessageBody() token: unknown): void {
    this.connections.offerToken(socket, token);
  }
}
