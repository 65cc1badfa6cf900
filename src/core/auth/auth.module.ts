import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthGuard } from './auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { TokenService } from './token.service';

/** Authentication for the API process. An `ApiKeyVerifier` must be provided by the api-keys module. */
@Global()
@Module({
  imports: [PassportModule.register({ session: false })],
  providers: [JwtStrategy, ApiKeyStrategy, TokenService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenService],
})
export class AuthModule {}
