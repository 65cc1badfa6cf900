import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { LogsQueryDto, LogsQueryResponse } from './dto/logs-query.dto';
import { MetricsQueryDto, MetricsQueryResponse } from './dto/metrics-query.dto';
import { LogsQueryService } from './logs-query.service';
import { MetricsQueryService } from './metrics-query.service';
import { LOGS_QUERY_ERRORS, METRICS_QUERY_ERRORS, UPSTREAM_DOWN } from './observability.controller';

/** The gateway paths the Launchpad UI calls, answering exactly as their /api/v1 twins. */
@ApiTags('launchpad')
@Controller('api')
export class LaunchpadObservabilityController {
  constructor(
    private readonly metrics: MetricsQueryService,
    private readonly logs: LogsQueryService,
  ) {}

  @Post('metrics/query')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/metrics/query' })
  @ApiBadRequestResponse({ description: METRICS_QUERY_ERRORS })
  @ApiServiceUnavailableResponse({ description: UPSTREAM_DOWN })
  queryMetrics(
    @CurrentPrincipal() principal: Principal,
    @Body() body: MetricsQueryDto,
  ): Promise<MetricsQueryResponse> {
    return this.metrics.query(principal, body);
  }

  @Post('logs/query')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/logs/query' })
  @ApiBadRequestResponse({ description: LOGS_QUERY_ERRORS })
  @ApiServiceUnavailableResponse({ description: UPSTREAM_DOWN })
  queryLogs(
    @CurrentPrincipal() principal: Principal,
    @Body() body: LogsQueryDto,
  ): Promise<LogsQueryResponse> {
    return this.logs.query(principal, body);
  }
}
