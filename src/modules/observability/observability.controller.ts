import { Body, Controller, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { LogsQueryDto, LogsQueryResponse } from './dto/logs-query.dto';
import { MetricsQueryDto, MetricsQueryResponse } from './dto/metrics-query.dto';
import { VerificationResponse, VerificationTestDto } from './dto/verification.dto';
import { LogsQueryService } from './logs-query.service';
import { MetricsQueryService } from './metrics-query.service';
import { newContext } from './verification/verification-check';
import { VerificationService } from './verification/verification.service';

export const METRICS_QUERY_ERRORS =
  'VALIDATION_ERROR: PromQL that does not parse, a bad time/step, Prometheus refusing the query, or (without ' +
  'PROM_URL) PromQL outside the local fallback (details.supported names what it evaluates)';
export const LOGS_QUERY_ERRORS =
  'VALIDATION_ERROR: since after until, or (with LOKI_URL) not a LogQL log query';
export const UPSTREAM_DOWN = 'OBSERVABILITY_UNAVAILABLE: Prometheus or Loki did not answer in time';

@ApiTags('observability')
@Controller()
export class ObservabilityController {
  constructor(
    private readonly metrics: MetricsQueryService,
    private readonly logs: LogsQueryService,
    private readonly verification: VerificationService,
  ) {}

  /**
   * PromQL, answered in Prometheus's HTTP API shape: proxied to PROM_URL (5 s cache) or evaluated over the
   * metrics every process pushes to Redis. Tenant callers see only series with their `tenant_id`.
   */
  @Post('metrics/query')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  @ApiBadRequestResponse({ description: METRICS_QUERY_ERRORS })
  @ApiServiceUnavailableResponse({ description: UPSTREAM_DOWN })
  queryMetrics(
    @CurrentPrincipal() principal: Principal,
    @Body() body: MetricsQueryDto,
  ): Promise<MetricsQueryResponse> {
    return this.metrics.query(principal, body);
  }

  /**
   * Structured log lines, newest first: Loki's query_range with LOKI_URL, else the local store (warn+ lines and
   * request lines of every API and worker process). Tenant callers see only their own lines.
   */
  @Post('logs/query')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  @ApiBadRequestResponse({ description: LOGS_QUERY_ERRORS })
  @ApiServiceUnavailableResponse({ description: UPSTREAM_DOWN })
  queryLogs(
    @CurrentPrincipal() principal: Principal,
    @Body() body: LogsQueryDto,
  ): Promise<LogsQueryResponse> {
    return this.logs.query(principal, body);
  }

  /**
   * Runs a verification suite against this running deployment (its own HTTP endpoints, database and config):
   * score = passed / total * 100. Audited as `verification.run`.
   */
  @Post('verification/test')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  runVerification(
    @CurrentPrincipal() principal: Principal,
    @Body() body: VerificationTestDto,
    @Req() req: Request,
  ): Promise<VerificationResponse> {
    // This server, over the socket the request came in on.
    const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const baseUrl = `http://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`;
    return this.verification.run(body.testType, newContext(baseUrl, req.secure, principal));
  }
}
