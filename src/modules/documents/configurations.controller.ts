import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { Idempotent } from '../../core/http/idempotency/idempotent.decorator';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { ConfigurationsService } from './configurations.service';
import {
  ConfigurationPage,
  ConfigurationQuery,
  ConfigurationResponse,
  CreateConfigurationDto,
  UpdateConfigurationDto,
} from './dto/configuration.dto';
import { TimelineEventResponse, TimelineQuery } from './dto/documents.dto';

const uuid = new ParseUUIDPipe();

@ApiTags('documents')
@Controller('configurations')
export class ConfigurationsController {
  constructor(private readonly configurations: ConfigurationsService) {}

  /** The tenant's extraction configurations (their current versions), newest first. */
  @Get()
  @Auth({ role: 'viewer' })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TenantPageQuery,
  ): Promise<ConfigurationPage> {
    return this.configurations.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** A new configuration, version 1. */
  @Post()
  @Auth({ role: 'member' })
  @Idempotent()
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Body() body: CreateConfigurationDto,
  ): Promise<ConfigurationResponse> {
    return this.configurations.create(resolveTenant(principal, scope.tenantId), body);
  }

  /** The current version, or an earlier one with `?version=`. */
  @Get(':id')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'CONFIGURATION_NOT_FOUND (or no such version)' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: ConfigurationQuery,
  ): Promise<ConfigurationResponse> {
    return this.configurations.get(resolveTenant(principal, query.tenantId), id, query.version);
  }

  /** Replaces the settings as a new version (`version` + 1); earlier versions stay readable and jobs keep theirs. */
  @Put(':id')
  @Auth({ role: 'member' })
  @ApiNotFoundResponse({ description: 'CONFIGURATION_NOT_FOUND' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Body() body: UpdateConfigurationDto,
  ): Promise<ConfigurationResponse> {
    return this.configurations.update(resolveTenant(principal, scope.tenantId), id, body);
  }

  /** Its versions as they were made, oldest first. */
  @Get(':id/events')
  @Auth({ role: 'viewer' })
  @ApiNotFoundResponse({ description: 'CONFIGURATION_NOT_FOUND' })
  events(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TimelineQuery,
  ): Promise<TimelineEventResponse[]> {
    return this.configurations.timeline(resolveTenant(principal, query.tenantId), id, query);
  }
}
