import {
  applyDecorators,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  BucketPage,
  DeletedObjectResponse,
  ObjectPathDto,
  SignedUrlDto,
  SignedUrlResponse,
} from './dto/storage.dto';
import { StorageService } from './storage.service';

/** What POST /storage/signed-url (and its Launchpad alias) may answer besides 200. */
export const SignedUrlResponses = () =>
  applyDecorators(
    ApiBadRequestResponse({
      description:
        'VALIDATION_ERROR: a path that climbs out or is malformed, a method other than GET/PUT, expires_in > 900',
    }),
    ApiNotFoundResponse({ description: 'OBJECT_NOT_FOUND: a GET URL for an object that does not exist' }),
  );

/** The origin a local signed URL points back at when STORAGE_PUBLIC_URL is unset. */
export const originOf = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

@ApiTags('storage')
@Controller('storage')
export class StorageController {
  constructor(private readonly storage: StorageService) {}

  /** The tenant's buckets (the first segment of its object paths) with object counts and bytes. */
  @Get('buckets')
  @Auth({ role: 'viewer' })
  buckets(@CurrentPrincipal() principal: Principal, @Query() scope: TenantScopedQuery): Promise<BucketPage> {
    return this.storage.buckets(resolveTenant(principal, scope.tenantId));
  }

  /**
   * A short-lived URL to download (`GET`, viewer) or upload (`PUT`, member) one object with no other credential.
   *
   * @remarks
   * Default 300 s, at most 900 s. On S3 the URL is presigned by the SDK and points at the store; on the local
   * store it is HMAC-signed and served by Conflux (`/api/v1/storage/signed/...`), uploads capped by UPLOAD_LIMIT.
   */
  @Post('signed-url')
  @Auth({ role: 'viewer' })
  // Directly on the method: the Swagger plugin reads the status from it.
  @HttpCode(HttpStatus.OK)
  @SignedUrlResponses()
  sign(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: SignedUrlDto,
    @Req() req: Request,
  ): Promise<SignedUrlResponse> {
    return this.storage.sign(resolveTenant(principal, scope.tenantId), principal, body, originOf(req));
  }

  /** Deletes one object; audited with its SHA-256 when known. */
  @Post('object/delete')
  @Auth({ role: 'member' })
  @HttpCode(HttpStatus.OK)
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: a path that climbs out or is malformed' })
  @ApiNotFoundResponse({ description: 'OBJECT_NOT_FOUND' })
  delete(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ObjectPathDto,
  ): Promise<DeletedObjectResponse> {
    return this.storage.delete(resolveTenant(principal, scope.tenantId), body.path);
  }
}
