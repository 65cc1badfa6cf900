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
  Query,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyPage, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';

@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** The tenant's keys (never the keys themselves). */
  @Get()
  @Auth({ role: 'owner' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<ApiKeyPage> {
    return this.apiKeys.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** Issues a key; `api_key` is in this response only. */
  @Post()
  @Auth({ role: 'owner' })
  @Idempotent({ secrets: ['api_key'] })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantScopedQuery,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.create(resolveTenant(principal, query.tenantId), body);
  }

  /** Revokes a key: it fails from its next use on. */
  @Delete(':id')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'revoked' })
  revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: TenantScopedQuery,
  ): Promise<void> {
    return this.apiKeys.revoke(resolveTenant(principal, query.tenantId), id);
  }
}
