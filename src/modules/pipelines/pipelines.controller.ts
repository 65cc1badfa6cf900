import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { RateLimit } from '../../core/http/rate-limit/rate-limit.decorator';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  PipelineRunResponse,
  PipelineRunsQuery,
  PipelineTemplateResponse,
  RunPipelineResponse,
} from './dto/pipelines.dto';
import { PipelinesService } from './pipelines.service';

@ApiTags('pipelines')
@Controller('pipelines')
export class PipelinesController {
  constructor(private readonly pipelines: PipelinesService) {}

  /** The pipeline templates of this deployment (`templates/<provider>/<domain>/<template>.yaml`). */
  @Get('templates')
  @Auth({ role: 'viewer' })
  templates(): PipelineTemplateResponse[] {
    return this.pipelines.listTemplates();
  }

  /**
   * Runs a template for the tenant: the variables are checked against the template's, the plan's daily and
   * concurrent quotas are checked in the transaction that records the run, and the run starts on the workers.
   * Poll `GET /pipelines/runs/{pipeline_logging_id}` or watch the tenant's `pipelines` topic.
   */
  @Post('run/:tenant_id/:provider/:domain/:template')
  @Auth({ role: 'member' })
  @RateLimit('pipeline-runs')
  @Idempotent()
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      additionalProperties: true,
      properties: {
        trigger_by: {
          type: 'string',
          maxLength: 200,
          description: 'Who or what started it (recorded and audited)',
        },
        date: {
          type: 'string',
          format: 'date',
          description: 'The run date, YYYY-MM-DD (UTC today by default)',
        },
      },
      description: "The template's declared variables, plus trigger_by and date",
    },
  })
  @ApiForbiddenResponse({ description: 'TENANT_MISMATCH; PLAN_LIMIT_REACHED (a provider beyond the plan)' })
  @ApiNotFoundResponse({ description: 'TEMPLATE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'PIPELINE_ALREADY_RUNNING: the same pipeline is PENDING or RUNNING' })
  @ApiTooManyRequestsResponse({ description: 'QUOTA_EXCEEDED (daily or concurrent) or RATE_LIMITED' })
  run(
    @CurrentPrincipal() principal: Principal,
    @Param('tenant_id') tenant: string,
    @Param('provider') provider: string,
    @Param('domain') domain: string,
    @Param('template') template: string,
    @Body() body: Record<string, unknown> = {},
  ): Promise<RunPipelineResponse> {
    return this.pipelines.run(
      principal,
      resolveTenant(principal, tenant),
      { provider, domain, template },
      body ?? {},
    );
  }

  /** The tenant's pipeline runs, newest first; filter by `pipeline_id` and `status`. A plain array. */
  @Get('runs')
  @Auth({ role: 'viewer' })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PipelineRunsQuery,
  ): Promise<PipelineRunResponse[]> {
    return this.pipelines.list(resolveTenant(principal, query.tenantId), query);
  }

  /** One pipeline run: PENDING, RUNNING, COMPLETE or FAILED (with why). */
  @Get('runs/:pipeline_logging_id')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'PIPELINE_RUN_NOT_FOUND' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('pipeline_logging_id', new ParseUUIDPipe()) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<PipelineRunResponse> {
    return this.pipelines.get(resolveTenant(principal, scope.tenantId), id);
  }
}
