import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { TimelineEventResponse, TimelineQuery } from './dto/documents.dto';
import { CreateJobDto, JobPage, JobResponse, JobsQuery } from './dto/jobs.dto';
import { TableResponse } from './dto/tables.dto';
import { JobsService } from './jobs.service';

const uuid = new ParseUUIDPipe();

@ApiTags('documents')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** The tenant's extraction jobs, newest first; filter by `document_id`, `status`. */
  @Get()
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: JobsQuery): Promise<JobPage> {
    return this.jobs.list(
      resolveTenant(principal, query.tenantId),
      { document_id: query.document_id, status: query.status },
      query.offset,
      query.limit,
    );
  }

  /**
   * Queues the extraction of a document's tables on a worker: status `queued` -> `running` -> `succeeded` |
   * `failed` (with the reason), the document `uploaded` -> `processing` -> `processed` | `failed`.
   */
  @Post()
  @Auth({ role: 'member' })
  @Idempotent()
  @ApiNotFoundResponse({
    description: 'DOCUMENT_NOT_FOUND or CONFIGURATION_NOT_FOUND (unknown or another tenant’s)',
  })
  @ApiConflictResponse({ description: 'JOB_IN_PROGRESS: the document has a job queued or running' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: CreateJobDto,
  ): Promise<JobResponse> {
    return this.jobs.create(resolveTenant(principal, scope.tenantId), body);
  }

  /** One extraction job: its status, the configuration version it used, and why it failed. */
  @Get(':id')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'JOB_NOT_FOUND' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<JobResponse> {
    return this.jobs.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** The job's timeline (created, started, tables, outcome, exports of its tables), oldest first. */
  @Get(':id/events')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'JOB_NOT_FOUND' })
  events(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TimelineQuery,
  ): Promise<TimelineEventResponse[]> {
    return this.jobs.timeline(resolveTenant(principal, query.tenantId), id, query);
  }

  /** The tables the job loaded. */
  @Get(':id/tables')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'JOB_NOT_FOUND' })
  tables(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<TableResponse[]> {
    return this.jobs.tables(resolveTenant(principal, scope.tenantId), id);
  }
}
