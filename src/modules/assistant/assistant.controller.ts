import { applyDecorators, Body, Controller, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { RateLimit } from '../../core/http/rate-limit/rate-limit.decorator';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { abortOnDisconnect, BUSY, QUERY_ERRORS } from '../data/data.controller';
import { AssistantService } from './assistant.service';
import { AiQueryDto, AiQueryResponse, SqlSuggestDto, SqlSuggestResponse } from './dto/assistant.dto';

/**
 * What every assistant route is: for members, under the tenant's `ai` budget, and what it may answer besides 200
 * (`HttpCode` stays on each method: the Swagger plugin reads the status from it there).
 */
export const AssistantRoute = (options: { suggest?: boolean } = {}) =>
  applyDecorators(
    Auth({ role: 'member' }),
    RateLimit('ai'),
    ApiTooManyRequestsResponse({
      description: "RATE_LIMITED: the tenant's `ai` budget (RATE_LIMIT_AI_PER_MINUTE) or its plan's is spent",
    }),
    ApiServiceUnavailableResponse({ description: BUSY }),
    ...(options.suggest
      ? [ApiNotFoundResponse({ description: 'TABLE_NOT_FOUND: `table` names none of the tenant’s tables' })]
      : [ApiBadRequestResponse({ description: `With execute: ${QUERY_ERRORS}` })]),
  );

@ApiTags('ai')
@Controller('ai')
export class AssistantController {
  constructor(private readonly assistant: AssistantService) {}

  /**
   * SQL suggestions from the tenant's real schema, each one checked to run as is through `POST /data/query`.
   *
   * @remarks
   * From the configured OpenAI-compatible model (`LLM_BASE_URL`; schema only in its prompt) when it answers with
   * valid SQL, else from the built-in schema-aware suggester (`source` says which; `warning` why the fallback).
   * Audited as `ai.suggest`.
   */
  @Post('sql/suggest')
  @AssistantRoute({ suggest: true })
  @HttpCode(HttpStatus.OK)
  suggest(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: SqlSuggestDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SqlSuggestResponse> {
    return this.assistant.suggest(resolveTenant(principal, scope.tenantId), body, abortOnDisconnect(res));
  }

  /**
   * A question in words -> one SELECT over the tenant's tables with a one-line explanation; with `execute: true`
   * also its rows (run as `POST /data/query` runs it). Audited as `ai.query`.
   */
  @Post('query')
  @AssistantRoute()
  @HttpCode(HttpStatus.OK)
  query(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: AiQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AiQueryResponse> {
    return this.assistant.query(resolveTenant(principal, scope.tenantId), body, abortOnDisconnect(res));
  }
}
