import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { JwtStrategy } from './jwt.strategy';
import { TokenService } from './token.service';

/** Authentication for the API process. An `ApiKeyVerifier` must be provided by the api-keys module. */
@Global()
@Module({
  providers: [
    JwtStrategy,
    ApiKeyStrategy,
    Authenticator,
    TokenService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Authenticator, TokenService],
})
export class AuthModule {}
