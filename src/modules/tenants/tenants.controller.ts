import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { PageQuery } from '../../core/http/pagination';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  OnboardTenantDto,
  OnboardTenantResponse,
  QuotaResponse,
  TenantPage,
  TenantResponse,
  UpdateTenantDto,
} from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  /**
   * Creates a tenant with its owner and an owner API key (returned once).
   *
   * @remarks
   * Also its dataset (schema, restricted role, tables) and a dry run through that role: all or nothing.
   */
  @Post('onboard')
  @Auth({ role: 'admin' })
  @Idempotent({ secrets: ['api_key', 'admin_password'] })
  onboard(@Body() body: OnboardTenantDto): Promise<OnboardTenantResponse> {
    return this.tenants.onboard(body);
  }

  /** Platform admins see every tenant; others their own. */
  @Get()
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQuery): Promise<TenantPage> {
    return this.tenants.list(principal, query.offset, query.limit);
  }

  /** One tenant: a tenant principal may read only its own (403 TENANT_MISMATCH). */
  @Get(':id')
  @Auth({ role: 'viewer' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TenantResponse> {
    return this.tenants.get(resolveTenant(principal, id));
  }

  /** Name and config (owner); state and plan (admin). Config changes need the current `config_version`. */
  @Patch(':id')
  @Auth({ role: 'owner' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateTenantDto,
  ): Promise<TenantResponse> {
    return this.tenants.update(principal, resolveTenant(principal, id), body);
  }

  /** Plan limits and today's usage. */
  @Get(':id/quota')
  @Auth({ role: 'viewer' })
  quota(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<QuotaResponse> {
    return this.tenants.quota(resolveTenant(principal, id));
  }
}
