import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Public } from '../../core/auth/auth.decorator';
import { RateLimit } from '../../core/http/rate-limit/rate-limit.decorator';
import type { Principal } from '../../core/auth/principal';
import { LoginDto, MeResponse, TokenResponse } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly users: UsersService) {}

  /** Exchanges email and password for a Conflux JWT with the user's tenant claims. */
  @Post('login')
  @Public()
  @RateLimit('login')
  @HttpCode(HttpStatus.OK)
  @ApiUnauthorizedResponse({ description: 'INVALID_TOKEN: wrong email or password' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: email is not an email address' })
  @ApiUnprocessableEntityResponse({ description: 'VALIDATION_ERROR: password missing or not a string' })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: too many attempts from this address (Retry-After)',
  })
  login(@Body() body: LoginDto): Promise<TokenResponse> {
    return this.users.login(body.email, body.password);
  }

  /** The principal this request authenticated as. */
  @Get('me')
  @Auth({ role: 'viewer' })
  me(@CurrentPrincipal() principal: Principal): MeResponse {
    return principal;
  }
}
