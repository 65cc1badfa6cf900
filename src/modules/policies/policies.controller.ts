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
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { DryRunDto, DryRunResponse, PolicyBodyDto, PolicyPage, PolicyResponse } from './dto/policy.dto';
import { PoliciesService } from './policies.service';

const uuid = new ParseUUIDPipe();

@ApiTags('policies')
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  /** The tenant's access policies. */
  @Get()
  @Auth({ role: 'owner' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<PolicyPage> {
    return this.policies.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** Adds a policy; it is enforced at once (unless `enabled: false`). */
  @Post()
  @Auth({ role: 'owner' })
  @Idempotent()
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: unknown action, subject, operator or field name' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantScopedQuery,
    @Body() body: PolicyBodyDto,
  ): Promise<PolicyResponse> {
    return this.policies.create(resolveTenant(principal, query.tenantId), body);
  }

  /** Applies a policy to sample records without saving it: which records and fields each action may touch. */
  @Post('dryrun')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: unknown action, subject, operator or field name' })
  dryRun(@Body() body: DryRunDto): DryRunResponse {
    return this.policies.dryRun(body);
  }

  /** One policy, as it stands (its latest version). */
  @Get(':id')
  @Auth({ role: 'owner' })
  @ApiNotFoundResponse({ description: 'POLICY_NOT_FOUND' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TenantScopedQuery,
  ): Promise<PolicyResponse> {
    return this.policies.get(resolveTenant(principal, query.tenantId), id);
  }

  /** Replaces the policy (its version goes up by one). */
  @Put(':id')
  @Auth({ role: 'owner' })
  @ApiNotFoundResponse({ description: 'POLICY_NOT_FOUND' })
  replace(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TenantScopedQuery,
    @Body() body: PolicyBodyDto,
  ): Promise<PolicyResponse> {
    return this.policies.replace(resolveTenant(principal, query.tenantId), id, body);
  }

  /** Deletes a policy: it stops applying at once. */
  @Delete(':id')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNotFoundResponse({ description: 'POLICY_NOT_FOUND' })
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TenantScopedQuery,
  ): Promise<void> {
    return this.policies.remove(resolveTenant(principal, query.tenantId), id);
  }
}
