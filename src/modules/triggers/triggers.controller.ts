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
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth, CurrentPrincipal, Public } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { JSON_VALUE_SCHEMA } from '../../core/http/api-json';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { RunResponse } from '../runs/dto/run.dto';
import { SchedulePage, ScheduleResponse, UpsertScheduleDto, WebhookSecretResponse } from './dto/trigger.dto';
import { TriggersService } from './triggers.service';
import { WebhookGuard, type WebhookRequest } from './webhook.guard';

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
   * Starts one run per delivery of a third party's webhook.
   *
   * @remarks
   * The run has `trigger_type: webhook` and input `{body, headers}`: 201, or 200 with the run a repeated
   * `X-Delivery-ID` already started. Signed with the workflow's secret:
   * `X-Conflux-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, within 5 minutes. For
   * secret `whsec_test`, t=1700000000 and body `{"a":1}`, v1 is HMAC-SHA256 of `1700000000.{"a":1}`. An
   * `X-API-Key` of the workflow's tenant works instead.
   */
  @Post('triggers/webhook/:workflow_id')
  @Public('api-key')
  @UseGuards(WebhookGuard)
  @ApiHeader({
    name: 'X-Conflux-Signature',
    required: false,
    description: 'Required without an API key: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
  })
  @ApiHeader({
    name: 'X-Delivery-ID',
    required: false,
    description: 'Dedupes redeliveries (also X-GitHub-Delivery, webhook-id)',
  })
  @ApiBody({
    required: false,
    description: "The third party's JSON payload, as it is",
    schema: JSON_VALUE_SCHEMA,
  })
  @ApiCreatedResponse({ type: RunResponse, description: 'the run this delivery started' })
  @ApiOkResponse({ type: RunResponse, description: 'the run this delivery id already started' })
  @ApiUnauthorizedResponse({
    description:
      'AUTHENTICATION_REQUIRED or INVALID_TOKEN: signature missing, wrong or stale, or a bad API key',
  })
  @ApiForbiddenResponse({ description: 'INSUFFICIENT_PERMISSIONS: the API key is below member' })
  @ApiNotFoundResponse({ description: "WORKFLOW_NOT_FOUND: no such workflow (or another tenant's key)" })
  @ApiConflictResponse({ description: 'CONFLICT: the workflow is not published' })
  @ApiUnprocessableEntityResponse({
    description: 'VALIDATION_ERROR: the input does not match its input_schema',
  })
  async webhook(
    @CurrentPrincipal() principal: Principal,
    @Param('workflow_id') workflowId: string,
    @Body() body: unknown,
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Req() req: WebhookRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponse> {
    const { run, created } = await this.triggers.deliver(
      principal.tenant_id as string,
      workflowId,
      body,
      headers,
      req.signedDeliveryId,
    );
    if (!created) res.status(HttpStatus.OK);
    return run;
  }

  /** Creates (201) or updates (200) the schedule of a workflow; invalid cron or time zone: 400. */
  @Post('triggers/schedule')
  @Auth({ role: 'member' })
  @ApiCreatedResponse({ type: ScheduleResponse, description: 'created' })
  @ApiOkResponse({ type: ScheduleResponse, description: "updated: the workflow's schedule already existed" })
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

  /** The tenant's schedules with their next fire times. */
  @Get('triggers/schedules')
  @Auth({ role: 'viewer' })
  schedules(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantPageQuery,
  ): Promise<SchedulePage> {
    return this.triggers.listSchedules(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** Deletes a schedule: it fires no more. */
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
