import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { DryRunDto, DryRunResponse, PolicyBodyDto, PolicyPage, PolicyResponse } from './dto/policy.dto';
import { PoliciesService } from './policies.service';

/** The gateway paths the Launchpad policy page calls, answering exactly as their /api/v1 twins. */
@ApiTags('launchpad')
@Controller('api/policies')
export class LaunchpadPoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @Auth({ role: 'owner' })
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of GET /api/v1/policies' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<PolicyPage> {
    return this.policies.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  @Post()
  @Auth({ role: 'owner' })
  @Idempotent()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/policies' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantScopedQuery,
    @Body() body: PolicyBodyDto,
  ): Promise<PolicyResponse> {
    return this.policies.create(resolveTenant(principal, query.tenantId), body);
  }

  @Post('dryrun')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/policies/dryrun' })
  dryRun(@Body() body: DryRunDto): DryRunResponse {
    return this.policies.dryRun(body);
  }
}
