import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { CreateUserDto, UserPage, UserResponse } from './dto/user.dto';
import { UsersService } from './users.service';

/** The gateway paths the Launchpad UI calls for users, answering exactly as GET/POST /api/v1/users. */
@ApiTags('launchpad')
@Controller('api/auth/users')
export class LaunchpadUsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Auth({ role: 'owner' })
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of GET /api/v1/users' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<UserPage> {
    return this.users.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  @Post()
  @Auth({ role: 'owner' })
  @Idempotent()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/users' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantScopedQuery,
    @Body() body: CreateUserDto,
  ): Promise<UserResponse> {
    return this.users.createMember(resolveTenant(principal, query.tenantId), body);
  }
}
