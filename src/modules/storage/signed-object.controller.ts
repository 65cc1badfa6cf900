import { applyDecorators, Controller, Get, Put, Req, Res, StreamableFile, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../core/auth/auth.decorator';
import { UploadedObjectResponse } from './dto/storage.dto';
import type { ObjectKey } from './object-key';
import { requestBody } from './request-body';
import { GrantedKey, SignedUrlGuard } from './signed-url.guard';
import { StorageService } from './storage.service';
import { SIGNED_OBJECT_ROUTE, SIGNED_PARAMS } from './url-signer';

const SignedUrlDocs = () =>
  applyDecorators(
    ApiParam({ name: 'key', description: '`<tenant_id>/<bucket>/<path>`, each segment URL-encoded' }),
    ...Object.values(SIGNED_PARAMS).map((name) => ApiQuery({ name, required: true })),
    ApiForbiddenResponse({
      description:
        'SIGNATURE_INVALID (altered), SIGNED_URL_METHOD_MISMATCH (a GET URL used for PUT), SIGNED_URL_EXPIRED',
    }),
  );

/**
 * The local store's signed URLs, as POST /storage/signed-url hands them out: the URL is the credential.
 * (On S3 the URLs point at the store instead, and this route answers 404.)
 */
@ApiTags('storage')
@Controller(SIGNED_OBJECT_ROUTE)
export class SignedObjectController {
  constructor(private readonly storage: StorageService) {}

  /** Streams the object's bytes. */
  @Get('*key')
  @Public()
  @UseGuards(SignedUrlGuard)
  @SignedUrlDocs()
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: "the object's bytes, with its Content-Type, Content-Length and ETag" })
  @ApiNotFoundResponse({ description: 'OBJECT_NOT_FOUND: deleted since the URL was signed' })
  async download(
    @GrantedKey() key: ObjectKey,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const object = await this.storage.open(key);
    res.set({
      ETag: `"${object.etag}"`,
      'Last-Modified': object.modified.toUTCString(),
      'Cache-Control': 'private, max-age=0',
      // Tenant bytes served from the API's origin never run as a page of it; browsers may embed them elsewhere.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    return new StreamableFile(object.stream, {
      type: object.contentType ?? 'application/octet-stream',
      length: object.size,
    });
  }

  /** Stores the request body as the object (any Content-Type, kept for downloads), replacing it whole. */
  @Put('*key')
  @Public()
  @UseGuards(SignedUrlGuard)
  @SignedUrlDocs()
  @ApiConsumes('*/*')
  @ApiBody({ description: "the object's bytes, as they are", schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({
    type: UploadedObjectResponse,
    description: 'stored: size and SHA-256 of the bytes received',
  })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: over UPLOAD_LIMIT; nothing was stored' })
  async upload(
    @GrantedKey() key: ObjectKey,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadedObjectResponse> {
    const stored = await this.storage.receive(key, requestBody(req), req.headers);
    res.set('ETag', `"${stored.sha256}"`);
    return stored;
  }
}
