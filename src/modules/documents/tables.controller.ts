import { Controller, Get, Param, ParseUUIDPipe, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { TableResponse, TableRowsPage } from './dto/tables.dto';
import { sendObject } from './send-object';
import { TablesService } from './tables.service';

const uuid = new ParseUUIDPipe();

@ApiTags('documents')
@Controller('tables')
@ApiNotFoundResponse({ description: 'TABLE_NOT_FOUND: unknown, or another tenant’s' })
export class TablesController {
  constructor(private readonly tables: TablesService) {}

  /** An extracted table: its name in the tenant's schema, columns and types, row count, source document and job. */
  @Get(':id')
  @Auth({ role: 'viewer' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<TableResponse> {
    return this.tables.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** A page of its rows, in load order. */
  @Get(':id/rows')
  @Auth({ role: 'viewer' })
  rows(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TenantPageQuery,
  ): Promise<TableRowsPage> {
    return this.tables.rows(resolveTenant(principal, query.tenantId), id, query.offset, query.limit);
  }

  /**
   * The whole table as CSV (a header of its column names, then its rows in load order). The export is stored as
   * a produced document linked to the table (its id in `X-Document-Id`), on the job's timeline, and audited.
   */
  @Get(':id/export.csv')
  @Auth({ role: 'member' })
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'the CSV, with its SHA-256 as ETag and the produced document in X-Document-Id',
  })
  async export(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const { document, object } = await this.tables.export(resolveTenant(principal, scope.tenantId), id);
    res.set('X-Document-Id', document.id);
    return sendObject(res, document, object);
  }
}
