import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { AppConfig } from '../../core/config/app.config';
import type { SsoProvider } from '../../core/config/sso.config';
import { SsoProviderUnavailableException } from './sso.exceptions';

/**
 * One openid-client Configuration per provider, from its discovery document (fetched on first use, again after a
 * failure). Plain-http issuers are allowed outside production only (a local Keycloak, the tests' provider).
 */
@Injectable()
export class OidcClients {
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();

  constructor(private readonly app: AppConfig) {}

  configuration(provider: SsoProvider): Promise<oidc.Configuration> {
    let found = this.configurations.get(provider.id);
    if (!found) {
      found = this.discover(provider);
      this.configurations.set(provider.id, found);
      found.catch(() => this.configurations.delete(provider.id));
    }
    return found;
  }

  private async discover(provider: SsoProvider): Promise<oidc.Configuration> {
    const insecure = new URL(provider.issuer).protocol === 'http:';
    if (insecure && this.app.isProduction)
      throw new SsoProviderUnavailableException(provider.id, 'an http issuer is refused in production');
    try {
      return await oidc.discovery(
        new URL(provider.issuer),
        provider.client_id,
        undefined,
        provider.client_secret ? oidc.ClientSecretPost(provider.client_secret) : oidc.None(),
        { ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}), timeout: 10 },
      );
    } catch (error) {
      throw new SsoProviderUnavailableException(provider.id, (error as Error).message);
    }
  }
}
