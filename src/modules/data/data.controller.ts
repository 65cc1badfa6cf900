import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { DataService } from './data.service';
import { DataQueryDto, DataQueryResponse, DataTablesResponse } from './dto/data.dto';
import { QueryAbortedError } from './query-errors';

export const QUERY_ERRORS =
  'VALIDATION_ERROR: a syntax error (details: sqlstate, position), a statement the sandbox refuses ' +
  '(details.reason: multiple_statements, not_select, into, locking, writable_cte, function, params), or an ' +
  'error Postgres raised running it (details: sqlstate, position?, hint?); QUERY_TIMEOUT: it ran past ' +
  'DATA_QUERY_TIMEOUT_MS (details.timeout_ms)';

export const BUSY = 'DB_UNAVAILABLE: every sandbox connection is busy (Retry-After)';
export const UNKNOWN_TENANT = 'TENANT_NOT_FOUND (a platform admin naming an unknown tenantId)';

/** Aborted when the client goes away before the answer is written: the query stops with it. */
export function abortOnDisconnect(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new QueryAbortedError('the client disconnected'));
  });
  return controller.signal;
}

@ApiTags('data')
@Controller('data')
export class DataController {
  constructor(private readonly data: DataService) {}

  /**
   * Runs one read-only SELECT over the tenant's own tables, in a session of the tenant's restricted role:
   * row, byte and time caps; audited as `data.query`.
   */
  @Post('query')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
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

  /** The tenant's tables and views with their columns and row estimates. */
  @Get('tables')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: UNKNOWN_TENANT })
  tables(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
  ): Promise<DataTablesResponse> {
    return this.data.tables(resolveTenant(principal, scope.tenantId));
  }
}
