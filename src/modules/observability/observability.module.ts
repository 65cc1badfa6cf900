import { Module } from '@nestjs/common';
import { LaunchpadObservabilityController } from './launchpad-observability.controller';
import { LocalMetrics } from './local-metrics';
import { LogsQueryService } from './logs-query.service';
import { MetricsQueryService } from './metrics-query.service';
import { MetricsController } from './metrics.controller';
import { ObservabilityController } from './observability.controller';
import { TelemetryModule } from './telemetry.module';
import { ProbeSubjects } from './verification/probe-subjects';
import { CHECK_PROVIDERS, VerificationService } from './verification/verification.service';

/**
 * The API's observability: /metrics, the metrics and logs query APIs (and their Launchpad aliases) and the
 * verification suites, over the telemetry every process (this one included) writes to Redis.
 */
@Module({
  imports: [TelemetryModule.forRoot('api')],
  controllers: [MetricsController, ObservabilityController, LaunchpadObservabilityController],
  providers: [
    LocalMetrics,
    MetricsQueryService,
    LogsQueryService,
    ProbeSubjects,
    VerificationService,
    ...CHECK_PROVIDERS,
  ],
  exports: [TelemetryModule],
})
export class ObservabilityModule {}
