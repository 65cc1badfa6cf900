import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth, CurrentPrincipal, Public } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { RunResponse } from '../runs/dto/run.dto';
import { SchedulePage, ScheduleResponse, UpsertScheduleDto, WebhookSecretResponse } from './dto/trigger.dto';
import { TriggersService } from './triggers.service';
import { WebhookGuard } from './webhook.guard';

const uuid = new ParseUUIDPipe();

@ApiTags('triggers')
@Controller()
export class TriggersController {
  constructor(private readonly triggers: TriggersService) {}

  /** Creates or rotates the workflow's webhook secret; the secret is shown only in this response. */
  @Post('workflows/:id/webhook-secret')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  webhookSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Req() req: Request,
  ): Promise<WebhookSecretResponse> {
    return this.triggers.rotateSecret(
      resolveTenant(principal, scope.tenantId),
      id,
      `${req.protocol}://${req.get('host') ?? 'localhost'}`,
    );
  }

  /**
   * Starts one run per delivery (`trigger_type: webhook`, input `{body, headers}`): 201, or 200 with the run a
   * repeated `X-Delivery-ID` already started. Signed with the workflow's secret:
   * `X-Conflux-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, within 5 minutes. For
   * secret `whsec_test`, t=1700000000 and body `{"a":1}`, v1 is HMAC-SHA256 of `1700000000.{"a":1}`. An
   * `X-API-Key` of the workflow's tenant works instead.
   */
  @Post('triggers/webhook/:workflow_id')
  @Public()
  @UseGuards(WebhookGuard)
  @ApiHeader({
    name: 'X-Conflux-Signature',
    required: false,
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
  })
  @ApiHeader({
    name: 'X-Delivery-ID',
    required: false,
    description: 'Dedupes redeliveries (also X-GitHub-Delivery, webhook-id)',
  })
  @ApiOkResponse({ type: RunResponse, description: 'the run this delivery id already started' })
  async webhook(
    @CurrentPrincipal() principal: Principal,
    @Param('workflow_id') workflowId: string,
    @Body() body: unknown,
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponse> {
    const { run, created } = await this.triggers.deliver(
      principal.tenant_id as string,
      workflowId,
      body,
      headers,
    );
    if (!created) res.status(HttpStatus.OK);
    return run;
  }

  /** Creates (201) or updates (200) the schedule of a workflow; invalid cron or time zone: 400. */
  @Post('triggers/schedule')
  @Auth({ role: 'member' })
  async upsertSchedule(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: UpsertScheduleDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ScheduleResponse> {
    const { schedule, created } = await this.triggers.upsertSchedule(
      resolveTenant(principal, scope.tenantId),
      body,
    );
    if (!created) res.status(HttpStatus.OK);
    return schedule;
  }

  @Get('triggers/schedules')
  @Auth({ role: 'viewer' })
  schedules(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantPageQuery,
  ): Promise<SchedulePage> {
    return this.triggers.listSchedules(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  @Delete('triggers/schedules/:id')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'deleted; it fires no more' })
  deleteSchedule(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<void> {
    return this.triggers.deleteSchedule(resolveTenant(principal, scope.tenantId), id);
  }
}
