import { Controller, Get, HttpStatus, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../core/auth/auth.decorator';
import { SkipRateLimit } from '../../core/http/rate-limit/rate-limit.decorator';
import { requestIdOf } from '../../core/http/request-id';
import { HealthService } from './health.service';

@ApiTags('observability')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness and readiness: database, Redis and connected workers. 503 (with the SPEC's error fields) when unhealthy. */
  @Get()
  @Public()
  @SkipRateLimit()
  @ApiOkResponse({ description: 'healthy or degraded' })
  @ApiServiceUnavailableResponse({
    description: 'database or Redis unreachable: `error_code` DB_UNAVAILABLE / QUEUE_UNAVAILABLE',
  })
  @ApiQuery({
    name: 'deep',
    required: false,
    description:
      '`1`: run the checks now instead of answering from the last round (at most HEALTH_CACHE_MS old)',
  })
  async check(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Query('deep') deep?: string) {
    const report = await this.health.view(deep === '1');
    if (report.status !== 'unhealthy') return report;
    res.status(HttpStatus.SERVICE_UNAVAILABLE);
    const down = report.error_code === 'DB_UNAVAILABLE' ? 'database' : 'Redis';
    return {
      ...report,
      error: 'Service Unavailable',
      message: `The ${down} is unreachable`,
      request_id: requestIdOf(req),
    };
  }
}
