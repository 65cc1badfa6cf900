import { Body, Controller, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { ArtifactIdDto, DeployResponse, PackDto, PackResponse, SignResponse } from './dto/packages.dto';
import { DeployResponses, PackResponses, SignResponses } from './packages.controller';
import { PackagesService } from './packages.service';

/** The gateway paths the Launchpad UI calls, answering exactly as their /api/v1 twins. */
@ApiTags('launchpad')
@Controller('api/wpk')
export class LaunchpadPackagesController {
  constructor(private readonly packages: PackagesService) {}

  @Post('pack')
  @Auth({ role: 'member' })
  @Idempotent()
  @PackResponses()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/wpk/pack' })
  pack(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: PackDto,
  ): Promise<PackResponse> {
    return this.packages.pack(resolveTenant(principal, scope.tenantId), principal, body.wpk);
  }

  @Post('sign')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @SignResponses()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/wpk/sign' })
  sign(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ArtifactIdDto,
  ): Promise<SignResponse> {
    return this.packages.sign(resolveTenant(principal, scope.tenantId), principal, body.artifact_id);
  }

  @Post('deploy')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @DeployResponses()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/wpk/deploy' })
  deploy(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ArtifactIdDto,
  ): Promise<DeployResponse> {
    return this.packages.deploy(resolveTenant(principal, scope.tenantId), principal, body.artifact_id);
  }
}
