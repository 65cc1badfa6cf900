import type { IncomingMessage } from 'node:http';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { RealtimeService } from './realtime.service';
import { WsConnections } from './ws-connections';
import { WsGateway } from './ws-gateway';

/** `WS /ws/runs/{run_id}`: a snapshot of the run, then its events. Transport only. */
@WebSocketGateway({ path: '/ws/runs' })
export class RunsGateway extends WsGateway implements OnGatewayConnection {
  constructor(
    connections: WsConnections,
    private readonly realtime: RealtimeService,
  ) {
    super(connections);
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const client = this.connections.open(socket, request, 'runs');
    client.run(async () => {
      const principal = await client.authenticated;
      const runId = client.query.get('id') ?? '';
      client.own(await this.realtime.watchRun(principal, runId, client));
    });
  }
}
