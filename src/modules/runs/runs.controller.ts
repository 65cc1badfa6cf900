import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  EventsQuery,
  ResumeRunDto,
  RunEventResponse,
  RunPage,
  RunResponse,
  RunsQuery,
  StartRunDto,
  StepRunResponse,
} from './dto/run.dto';
import { RunsService } from './runs.service';

const uuid = new ParseUUIDPipe();

@ApiTags('runs')
@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  /** Starts a run of a published workflow: 201 new, 200 when the idempotency key names an earlier run. */
  @Post('workflows/:id/run')
  @Auth({ role: 'member' })
  @ApiHeader({ name: 'X-Idempotency-Key', required: false, description: 'Or `idempotency_key` in the body' })
  @ApiCreatedResponse({ type: RunResponse, description: 'a new run' })
  @ApiOkResponse({ type: RunResponse, description: 'the run an earlier request with this key started' })
  @ApiNotFoundResponse({ description: 'WORKFLOW_NOT_FOUND' })
  @ApiConflictResponse({ description: 'CONFLICT: the workflow is not published' })
  @ApiUnprocessableEntityResponse({
    description: 'VALIDATION_ERROR: the input does not match its input_schema',
  })
  async start(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Body() body: StartRunDto,
    @Headers('x-idempotency-key') headerKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunResponse> {
    const key = headerKey ?? body.idempotency_key;
    const { run, created } = await this.runs.start(
      resolveTenant(principal, scope.tenantId),
      id,
      body.input,
      'manual',
      key,
    );
    if (!created) res.status(HttpStatus.OK);
    return run;
  }

  /** The tenant's runs, newest first. */
  @Get('runs')
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: RunsQuery): Promise<RunPage> {
    const limit = query.per_page ?? query.limit;
    const filter = {
      workflow_id: query.workflow_id,
      status: query.status,
      since: query.since,
      until: query.until,
    };
    return this.runs.list(resolveTenant(principal, query.tenantId), filter, (query.page - 1) * limit, limit);
  }

  /** One run with its context (input and settled steps' outputs). */
  @Get('runs/:id')
  @Auth({ role: 'viewer' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<RunResponse> {
    return this.runs.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** The run's steps so far, each with its status, attempt, output and error. */
  @Get('runs/:id/steps')
  @Auth({ role: 'viewer' })
  steps(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<StepRunResponse[]> {
    return this.runs.steps(resolveTenant(principal, scope.tenantId), id);
  }

  /** The replay log: events after `after_seq`, oldest first, gap-free `seq`. */
  @Get('runs/:id/events')
  @Auth({ role: 'viewer' })
  events(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: EventsQuery,
  ): Promise<RunEventResponse[]> {
    return this.runs.events(resolveTenant(principal, query.tenantId), id, query.after_seq, query.limit);
  }

  /** Completes a waiting approval step with `data` and continues the run. */
  @Post('runs/:id/resume')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  resume(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Body() body: ResumeRunDto,
  ): Promise<RunResponse> {
    return this.runs.resume(resolveTenant(principal, scope.tenantId), id, body.step_id, body.data);
  }

  /** running/paused -> cancelled: nothing new starts, running steps are aborted. */
  @Post('runs/:id/cancel')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<RunResponse> {
    return this.runs.cancel(resolveTenant(principal, scope.tenantId), id);
  }

  /** Failed runs only: re-runs failed steps and what follows; completed steps keep their outputs. */
  @Post('runs/:id/retry')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  retry(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<RunResponse> {
    return this.runs.retry(resolveTenant(principal, scope.tenantId), id);
  }
}
