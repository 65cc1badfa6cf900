import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  CreateWorkflowDto,
  UpdateWorkflowDto,
  ValidationResponse,
  WorkflowPage,
  WorkflowResponse,
  WorkflowsQuery,
} from './dto/workflow.dto';
import { WorkflowsService } from './workflows.service';

const uuid = new ParseUUIDPipe();

@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  /** The tenant's workflows (every version), newest first. */
  @Get()
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: WorkflowsQuery): Promise<WorkflowPage> {
    return this.workflows.list(
      resolveTenant(principal, query.tenantId),
      query.status,
      query.offset,
      query.limit,
    );
  }

  /** A new draft (version 1). */
  @Post()
  @Auth({ role: 'member' })
  @Idempotent()
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: CreateWorkflowDto,
  ): Promise<WorkflowResponse> {
    return this.workflows.create(resolveTenant(principal, scope.tenantId), body);
  }

  /** One workflow version with its definition. */
  @Get(':id')
  @Auth({ role: 'viewer' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<WorkflowResponse> {
    return this.workflows.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** Saves a draft; published workflows are frozen (409 WORKFLOW_PUBLISHED). */
  @Put(':id')
  @Auth({ role: 'member' })
  @ApiConflictResponse({ description: 'WORKFLOW_PUBLISHED' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Body() body: UpdateWorkflowDto,
  ): Promise<WorkflowResponse> {
    return this.workflows.update(resolveTenant(principal, scope.tenantId), id, body);
  }

  /** Deletes a draft; published workflows cannot be deleted (400). */
  @Delete(':id')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'deleted' })
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<void> {
    return this.workflows.remove(resolveTenant(principal, scope.tenantId), id);
  }

  /** Every problem of the graph, each naming its node or edge. */
  @Post(':id/validate')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  validate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<ValidationResponse> {
    return this.workflows.validate(resolveTenant(principal, scope.tenantId), id);
  }

  /** Validates (400 with `details.errors` if invalid), then freezes the definition. */
  @Post(':id/publish')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR with details.errors' })
  @ApiConflictResponse({ description: 'WORKFLOW_PUBLISHED: already published or archived' })
  publish(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<WorkflowResponse> {
    return this.workflows.publish(resolveTenant(principal, scope.tenantId), id);
  }

  /** A new draft at version + 1 with the same definition. */
  @Post(':id/duplicate')
  @Auth({ role: 'member' })
  @Idempotent()
  duplicate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<WorkflowResponse> {
    return this.workflows.duplicate(resolveTenant(principal, scope.tenantId), id);
  }
}
