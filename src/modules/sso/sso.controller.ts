import { Controller, Get, HttpStatus, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../core/auth/auth.decorator';
import { RateLimit } from '../../core/http/rate-limit/rate-limit.decorator';
import { originOf } from '../storage/storage.controller';
import { TokenResponse } from '../users/dto/user.dto';
import { SsoLoginQuery } from './dto/sso.dto';
import { SsoService } from './sso.service';

@ApiTags('auth')
@Controller('auth/sso')
export class SsoController {
  constructor(private readonly sso: SsoService) {}

  /** Starts a sign-in: 302 to the provider (authorization code + PKCE S256, state and nonce). */
  @Get(':provider/login')
  @Public()
  @RateLimit('login')
  @ApiFoundResponse({ description: "Location: the provider's authorization URL" })
  @ApiNotFoundResponse({ description: 'SSO_PROVIDER_NOT_FOUND' })
  @ApiBadRequestResponse({ description: "VALIDATION_ERROR: redirect_uri is not one of the provider's" })
  async login(
    @Param('provider') provider: string,
    @Query() query: SsoLoginQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.redirect(HttpStatus.FOUND, (await this.sso.start(provider, query.redirect_uri, originOf(req))).href);
  }

  /**
   * The provider's redirect back: a Conflux token as JSON, or a 302 to the login's `redirect_uri` with
   * `#token=...&token_type=Bearer&expires_in=...`.
   */
  @Get(':provider/callback')
  @Public()
  @RateLimit('login')
  @ApiQuery({ name: 'code', required: false })
  @ApiQuery({ name: 'state', required: false })
  @ApiOkResponse({ type: TokenResponse })
  @ApiFoundResponse({ description: "Location: the SPA's redirect_uri with the token in the fragment" })
  @ApiUnauthorizedResponse({
    description: 'INVALID_TOKEN: unknown or replayed state, wrong nonce, refused code',
  })
  @ApiForbiddenResponse({ description: 'INSUFFICIENT_PERMISSIONS: unverified email, domain not allowed' })
  @ApiNotFoundResponse({ description: 'SSO_PROVIDER_NOT_FOUND' })
  async callback(
    @Param('provider') provider: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const query = new URL(req.originalUrl, 'http://callback').searchParams;
    const { token, redirect_uri } = await this.sso.complete(provider, query);
    if (!redirect_uri) {
      res.status(HttpStatus.OK).json(token);
      return;
    }
    const fragment = new URLSearchParams({
      token: token.token,
      token_type: token.token_type,
      expires_in: String(token.expires_in),
    });
    res.redirect(HttpStatus.FOUND, `${redirect_uri}#${fragment.toString()}`);
  }
}
