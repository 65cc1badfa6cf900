import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { BucketPage, SignedUrlDto, SignedUrlResponse } from './dto/storage.dto';
import { originOf, SignedUrlResponses } from './storage.controller';
import { StorageService } from './storage.service';

/** The gateway paths the Launchpad UI calls, answering exactly as their /api/v1 twins. */
@ApiTags('launchpad')
@Controller('api/storage')
export class LaunchpadStorageController {
  constructor(private readonly storage: StorageService) {}

  @Get('buckets')
  @Auth({ role: 'viewer' })
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of GET /api/v1/storage/buckets' })
  buckets(@CurrentPrincipal() principal: Principal, @Query() scope: TenantScopedQuery): Promise<BucketPage> {
    return this.storage.buckets(resolveTenant(principal, scope.tenantId));
  }

  @Post('signed-url')
  @Auth({ role: 'viewer' })
  @HttpCode(HttpStatus.OK)
  @SignedUrlResponses()
  @ApiOperation({ deprecated: true, summary: 'Launchpad alias of POST /api/v1/storage/signed-url' })
  sign(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: SignedUrlDto,
    @Req() req: Request,
  ): Promise<SignedUrlResponse> {
    return this.storage.sign(resolveTenant(principal, scope.tenantId), principal, body, originOf(req));
  }
}
