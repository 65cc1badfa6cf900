import { Module } from '@nestjs/common';
import { RateLimiter } from '../../core/http/rate-limit/rate-limiter';
import { ObservabilityModule } from '../observability/observability.module';
import { RunsModule } from '../runs/runs.module';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimeService } from './realtime.service';
import { RunsGateway } from './runs.gateway';
import { TelemetryService } from './telemetry.service';
import { WsConnections } from './ws-connections';

/** The API's WebSockets: run streams and tenant topics, relayed from Redis pub/sub (SPEC section 9). */
@Module({
  imports: [RunsModule, ObservabilityModule],
  providers: [RunsGateway, RealtimeGateway, RealtimeService, TelemetryService, WsConnections, RateLimiter],
})
export class RealtimeModule {}
