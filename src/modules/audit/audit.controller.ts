import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { AuditService } from './audit.service';
import { AuditEventPage, AuditEventsQuery, AuditVerifyQuery, AuditVerifyResponse } from './dto/audit.dto';

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** The tenant's audit trail, newest first; filter by resource. */
  @Get('events')
  @Auth({ role: 'owner' })
  events(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditEventsQuery,
  ): Promise<AuditEventPage> {
    const tenantId = resolveTenant(principal, query.tenantId);
    const filter = { resource_type: query.resource_type, resource_id: query.resource_id };
    return this.audit.list(tenantId, filter, query.offset, query.limit);
  }

  /** Walks the tenant's hash chain and names the first broken link. */
  @Get('verify')
  @Auth({ role: 'owner' })
  verify(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditVerifyQuery,
  ): Promise<AuditVerifyResponse> {
    return this.audit.verify(resolveTenant(principal, query.tenantId));
  }
}
