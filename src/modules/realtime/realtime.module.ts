import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimeService } from './realtime.service';
import { RunsGateway } from './runs.gateway';
import { TelemetryService } from './telemetry.service';
import { WsConnections } from './ws-connections';

/** The API's WebSockets: run streams and tenant topics, relayed from Redis pub/sub (SPEC section 9). */
@Module({
  imports: [RunsModule],
  providers: [RunsGateway, RealtimeGateway, RealtimeService, TelemetryService, WsConnections],
})
export class RealtimeModule {}
