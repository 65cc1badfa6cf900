import {
  applyDecorators,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import {
  ArtifactIdDto,
  ArtifactPage,
  ArtifactResponse,
  DeployResponse,
  ImportDto,
  PackDto,
  PackResponse,
  SigningKeysResponse,
  SignResponse,
} from './dto/packages.dto';
import { PackagesService } from './packages.service';

const REFUSED =
  'PACKAGE_VERIFICATION_FAILED (details.reason: unsigned, missing_bytes, digest_mismatch, untrusted_key, ' +
  'bad_signature, unsafe_archive) or VALIDATION_ERROR (details.workflows: each invalid workflow and its errors); ' +
  'nothing was installed';

/** What each /wpk route (and its Launchpad alias) may answer besides success. */
export const PackResponses = () =>
  applyDecorators(
    ApiBadRequestResponse({ description: 'VALIDATION_ERROR: details.workflows names each invalid workflow' }),
    ApiUnprocessableEntityResponse({
      description: 'VALIDATION_ERROR: wpk is not a manifest (details.errors)',
    }),
  );
export const SignResponses = () =>
  applyDecorators(
    ApiBadRequestResponse({
      description: 'PACKAGE_VERIFICATION_FAILED: the stored bytes changed or are gone',
    }),
    ApiNotFoundResponse({ description: 'ARTIFACT_NOT_FOUND' }),
  );
export const DeployResponses = () =>
  applyDecorators(
    ApiBadRequestResponse({ description: REFUSED }),
    ApiNotFoundResponse({ description: 'ARTIFACT_NOT_FOUND' }),
  );

const uuid = new ParseUUIDPipe();

@ApiTags('packages')
@Controller('wpk')
export class PackagesController {
  constructor(private readonly packages: PackagesService) {}

  /**
   * Packs a manifest into a deterministic `.tar.gz` in object storage (`packages/<sha256>.tar.gz`); every
   * workflow is validated first. The same manifest always packs to the same sha256 (and the same artifact).
   */
  @Post('pack')
  @Auth({ role: 'member' })
  @Idempotent()
  @PackResponses()
  pack(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: PackDto,
  ): Promise<PackResponse> {
    return this.packages.pack(resolveTenant(principal, scope.tenantId), principal, body.wpk);
  }

  /** Signs the artifact's sha256, name and version with the deployment's Ed25519 key (after re-hashing its bytes). */
  @Post('sign')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @SignResponses()
  sign(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ArtifactIdDto,
  ): Promise<SignResponse> {
    return this.packages.sign(resolveTenant(principal, scope.tenantId), principal, body.artifact_id);
  }

  /**
   * Verifies the artifact (bytes re-read and re-hashed, signature against the trusted keys, archive read under
   * strict limits, workflows validated) and publishes all its workflows in one transaction, or none. Deploying
   * the same artifact again changes nothing (`already_deployed: true`).
   */
  @Post('deploy')
  @Auth({ role: 'owner' })
  @HttpCode(HttpStatus.OK)
  @DeployResponses()
  deploy(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ArtifactIdDto,
  ): Promise<DeployResponse> {
    return this.packages.deploy(resolveTenant(principal, scope.tenantId), principal, body.artifact_id);
  }

  /** Brings in an artifact packed (and signed) by another deployment; deploy verifies it. */
  @Post('import')
  @Auth({ role: 'member' })
  @Idempotent()
  @ApiOperation({ summary: 'Import an artifact (base64) and its signature' })
  @ApiBadRequestResponse({ description: 'PACKAGE_VERIFICATION_FAILED (unsafe_archive): links, `..`, limits' })
  @ApiUnprocessableEntityResponse({ description: 'VALIDATION_ERROR: its manifest is not a WPK manifest' })
  import(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: ImportDto,
  ): Promise<ArtifactResponse> {
    return this.packages.import(resolveTenant(principal, scope.tenantId), principal, body);
  }

  /** The tenant's artifacts, newest first. */
  @Get('artifacts')
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<ArtifactPage> {
    return this.packages.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** One artifact: name, version, sha256, size, signature and when it was deployed. */
  @Get('artifacts/:id')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'ARTIFACT_NOT_FOUND' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Param('id', uuid) id: string,
  ): Promise<ArtifactResponse> {
    return this.packages.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** This deployment's signing key id and every public key it trusts (PEM, for another's WPK_TRUSTED_KEYS). */
  @Get('keys')
  @Auth({ role: 'viewer' })
  keys(): SigningKeysResponse {
    return this.packages.keys();
  }
}
