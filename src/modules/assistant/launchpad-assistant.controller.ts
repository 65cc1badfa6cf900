import { Body, Controller, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { abortOnDisconnect } from '../data/data.controller';
import { AssistantRoute } from './assistant.controller';
import { AssistantService } from './assistant.service';
import { SqlSuggestDto, SqlSuggestResponse } from './dto/assistant.dto';

/** The gateway path the Launchpad UI calls, answering exactly as its /api/v1 twin. */
@ApiTags('launchpad')
@Controller('api/ai')
export class LaunchpadAssistantController {
  constructor(private readonly assistant: AssistantService) {}

  @Post('sql/suggest')
  @AssistantRoute({ suggest: true })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/ai/sql/suggest' })
  suggest(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: SqlSuggestDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SqlSuggestResponse> {
    return this.assistant.suggest(resolveTenant(principal, scope.tenantId), body, abortOnDisconnect(res));
  }
}
