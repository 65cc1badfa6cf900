import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { LoginStates } from './login-states';
import { OidcClients } from './oidc-clients';
import { SsoController } from './sso.controller';
import { SsoRepository } from './sso.repository';
import { SsoService } from './sso.service';

/** Single sign-on with OpenID Connect providers (SSO_PROVIDERS). */
@Module({
  imports: [UsersModule],
  controllers: [SsoController],
  providers: [SsoService, SsoRepository, LoginStates, OidcClients],
})
export class SsoModule {}
