import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { CreateUserDto, UserPage, UserResponse } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** The tenant's users and their roles. */
  @Get()
  @Auth({ role: 'owner' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<UserPage> {
    return this.users.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** Adds a user; over the plan's team-member limit: 403 PLAN_LIMIT_REACHED. */
  @Post()
  @Auth({ role: 'owner' })
  @Idempotent()
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantScopedQuery,
    @Body() body: CreateUserDto,
  ): Promise<UserResponse> {
    return this.users.createMember(resolveTenant(principal, query.tenantId), body);
  }
}
