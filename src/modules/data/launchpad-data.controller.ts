import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { abortOnDisconnect, BUSY, QUERY_ERRORS, UNKNOWN_TENANT } from './data.controller';
import { DataService } from './data.service';
import { DataQueryDto, DataQueryResponse, DataTablesResponse } from './dto/data.dto';

/** The gateway paths the Launchpad UI calls, answering exactly as their /api/v1 twins. */
@ApiTags('launchpad')
@Controller('api/data')
export class LaunchpadDataController {
  constructor(private readonly data: DataService) {}

  @Post('query')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/data/query' })
  @ApiBadRequestResponse({ description: QUERY_ERRORS })
  @ApiServiceUnavailableResponse({ description: BUSY })
  query(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: DataQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DataQueryResponse> {
    const tenantId = resolveTenant(principal, scope.tenantId);
    return this.data.query(tenantId, body, { via: 'api', signal: abortOnDisconnect(res) });
  }

  @Get('tables')
  @Auth({ role: 'viewer' })
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of GET /api/v1/data/tables' })
  @ApiNotFoundResponse({ description: UNKNOWN_TENANT })
  tables(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
  ): Promise<DataTablesResponse> {
    return this.data.tables(resolveTenant(principal, scope.tenantId));
  }
}
