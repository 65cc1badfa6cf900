import {
  Controller,
  Get,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { TenantPageQuery, TenantScopedQuery } from '../../core/tenancy/tenant-query.dto';
import { resolveTenant } from '../../core/tenancy/tenant-scope';
import { originOf } from '../storage/storage.controller';
import { DocumentsService } from './documents.service';
import {
  ChainResponse,
  DocumentPage,
  DocumentResponse,
  TimelineEventResponse,
  TimelineQuery,
} from './dto/documents.dto';
import { TableResponse } from './dto/tables.dto';
import { sendObject } from './send-object';

const uuid = new ParseUUIDPipe();

@ApiTags('documents')
@Controller('documents')
@ApiNotFoundResponse({ description: 'DOCUMENT_NOT_FOUND: unknown, or another tenant’s' })
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  /**
   * Uploads a file (CSV, TSV, XLSX, JSON, PDF, images, text, ...), streamed to object storage while its SHA-256
   * and size are computed and its type is detected from its bytes (not its name).
   *
   * @remarks
   * The same bytes uploaded twice make two documents with the same `sha256`. Executables and archives other
   * than XLSX answer 415; files over UPLOAD_LIMIT 413; in both cases nothing is stored.
   */
  @Post()
  @Auth({ role: 'member' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        metadata: {
          type: 'string',
          description: 'a JSON object, kept with the document',
          example: '{"source":"crm"}',
        },
      },
    },
  })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: over UPLOAD_LIMIT; nothing was stored' })
  @ApiUnsupportedMediaTypeResponse({
    description: 'UNSUPPORTED_MEDIA_TYPE: an executable or an archive, or not multipart',
  })
  upload(
    @CurrentPrincipal() principal: Principal,
    @Query() scope: TenantScopedQuery,
    @Req() req: Request,
  ): Promise<DocumentResponse> {
    return this.documents.upload(resolveTenant(principal, scope.tenantId), req);
  }

  /** The tenant's documents, newest first. */
  @Get()
  @Auth({ role: 'viewer' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TenantPageQuery): Promise<DocumentPage> {
    return this.documents.list(resolveTenant(principal, query.tenantId), query.offset, query.limit);
  }

  /** One document's metadata: filename, status, modality, sha256, size. */
  @Get(':id')
  @Auth({ role: 'viewer' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<DocumentResponse> {
    return this.documents.get(resolveTenant(principal, scope.tenantId), id);
  }

  /** The stored bytes (local store), or a redirect to a 5-minute signed URL (S3). Audited as `document.downloaded`. */
  @Get(':id/download')
  @Auth({ role: 'viewer' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'the bytes, with the detected Content-Type and the SHA-256 as ETag' })
  @ApiFoundResponse({ description: 'S3: Location is a signed URL' })
  async download(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile | undefined> {
    const download = await this.documents.download(
      resolveTenant(principal, scope.tenantId),
      id,
      originOf(req),
    );
    if ('redirect' in download) return void res.redirect(HttpStatus.FOUND, download.redirect);
    return sendObject(res, download.document, download.object);
  }

  /** What happened to the document and its jobs and tables, oldest first. */
  @Get(':id/events')
  @Auth({ role: 'viewer' })
  events(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() query: TimelineQuery,
  ): Promise<TimelineEventResponse[]> {
    return this.documents.timeline(resolveTenant(principal, query.tenantId), id, query);
  }

  /** Tables extracted from the document, by every job. */
  @Get(':id/tables')
  @Auth({ role: 'viewer' })
  tables(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<TableResponse[]> {
    return this.documents.tables(resolveTenant(principal, scope.tenantId), id);
  }

  /** The document's chain of custody: its audit events, oldest first, and whether their hashes verify. */
  @Get(':id/chain')
  @Auth({ role: 'viewer' })
  chain(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() scope: TenantScopedQuery,
  ): Promise<ChainResponse> {
    return this.documents.chain(resolveTenant(principal, scope.tenantId), id);
  }
}
