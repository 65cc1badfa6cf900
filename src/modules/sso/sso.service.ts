import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { type SsoProvider, SsoConfig } from '../../core/config/sso.config';
import type { IssuedToken } from '../../core/auth/token.service';
import { Transactions } from '../../core/database/transaction';
import { AuditService } from '../audit/audit.service';
import type { LoginRow } from '../users/users.repository';
import { EmailTakenException } from '../users/users.exceptions';
import { UsersService } from '../users/users.service';
import { LoginStates } from './login-states';
import { OidcClients } from './oidc-clients';
import {
  RedirectUriNotAllowedException,
  SsoAccessDeniedException,
  SsoLoginFailedException,
  SsoProviderNotFoundException,
} from './sso.exceptions';
import { SsoRepository } from './sso.repository';

export interface SsoLoginResult {
  token: IssuedToken;
  /** The SPA address the login asked to return to (the token goes in its fragment). */
  redirect_uri?: string;
}

/**
 * OpenID Connect sign-in: authorization code with PKCE (S256), `state` and `nonce` bound to a single-use
 * server-side record; the ID token is checked by openid-client (signature against the provider's JWKS, issuer,
 * audience, nonce, expiry). A provider identity links to one user: by `iss`+`sub` once linked, else by a
 * verified email within the provider's allowed domains (an existing user of the provider's tenant is linked,
 * an unknown email is provisioned with the provider's default role).
 */
@Injectable()
export class SsoService {
  constructor(
    private readonly config: SsoConfig,
    private readonly clients: OidcClients,
    private readonly states: LoginStates,
    private readonly identities: SsoRepository,
    private readonly users: UsersService,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  provider(id: string): SsoProvider {
    const provider = this.config.SSO_PROVIDERS.find((p) => p.id === id);
    if (!provider) throw new SsoProviderNotFoundException(id);
    return provider;
  }

  /** The provider's authorization URL for a new login; `origin` is this API's, for the default callback. */
  async start(id: string, redirectUri: string | undefined, origin: string): Promise<URL> {
    const provider = this.provider(id);
    if (redirectUri !== undefined && !provider.redirect_uris.includes(redirectUri))
      throw new RedirectUriNotAllowedException(redirectUri);
    const configuration = await this.clients.configuration(provider);
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const callbackUrl = provider.callback_url ?? `${origin}/api/v1/auth/sso/${provider.id}/callback`;
    await this.states.save(state, {
      provider: provider.id,
      code_verifier: codeVerifier,
      nonce,
      callback_url: callbackUrl,
      ...(redirectUri ? { redirect_uri: redirectUri } : {}),
    });
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: callbackUrl,
      scope: provider.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
  }

  /** Completes a login from the provider's callback query; nothing is provisioned unless every check passed. */
  async complete(id: string, query: URLSearchParams): Promise<SsoLoginResult> {
    const provider = this.provider(id);
    const state = query.get('state');
    if (!state) throw new SsoLoginFailedException('the callback carries no state');
    const login = await this.states.take(state);
    if (!login || login.provider !== provider.id)
      throw new SsoLoginFailedException('unknown, expired or already used state');
    const error = query.get('error');
    if (error)
      throw new SsoLoginFailedException(
        `the provider answered '${error}'${query.get('error_description') ? `: ${query.get('error_description')}` : ''}`,
      );
    const configuration = await this.clients.configuration(provider);
    const callback = new URL(login.callback_url);
    callback.search = query.toString();
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: login.code_verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (failure) {
      throw new SsoLoginFailedException(describe(failure));
    }
    if (!claims) throw new SsoLoginFailedException('the provider sent no ID token');
    const account = await this.accountFor(provider, claims).catch((failure: unknown) => {
      // A concurrent first login of the same person provisioned them: theirs is the account.
      if (failure instanceof EmailTakenException) return this.accountFor(provider, claims);
      throw failure;
    });
    return {
      token: this.users.issueToken(account),
      ...(login.redirect_uri ? { redirect_uri: login.redirect_uri } : {}),
    };
  }

  private async accountFor(provider: SsoProvider, claims: oidc.IDToken): Promise<LoginRow> {
    const identity = { issuer: claims.iss, subject: claims.sub, provider: provider.id };
    const linked = await this.identities.find(claims.iss, claims.sub);
    if (linked) {
      const account = await this.users.account({ id: linked.user_id });
      if (!account || (!account.is_admin && !account.tenant_id))
        throw new SsoAccessDeniedException('the linked user no longer belongs to a tenant');
      await this.tx.run(async () => {
        await this.identities.touch(claims.iss, claims.sub);
        await this.recordLogin(account, provider, claims, false);
      });
      return account;
    }
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
    if (!email || claims.email_verified !== true)
      throw new SsoAccessDeniedException('the provider did not vouch for a verified email');
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (provider.allowed_domains.length > 0 && !provider.allowed_domains.includes(domain))
      throw new SsoAccessDeniedException(
        `email domain '${domain}' is not allowed for provider '${provider.id}'`,
      );
    return this.tx.run(async () => {
      const existing = await this.users.account({ email });
      if (existing && (existing.is_admin || existing.tenant_id !== provider.tenant_id))
        throw new SsoAccessDeniedException(`'${email}' cannot be linked to tenant '${provider.tenant_id}'`);
      const userId =
        existing?.id ??
        (
          await this.users
            .createMember(provider.tenant_id, { email, role: provider.default_role })
            .catch((failure: { code?: string }) => {
              if (failure.code === '23503')
                throw new SsoAccessDeniedException(
                  `the provider's tenant '${provider.tenant_id}' does not exist`,
                );
              throw failure;
            })
        ).id;
      if (!(await this.identities.link({ ...identity, user_id: userId }, email)))
        throw new EmailTakenException(email);
      await this.audit.record({
        tenantId: provider.tenant_id,
        eventType: existing ? 'user.linked' : 'user.provisioned',
        resourceType: 'user',
        resourceId: userId,
        details: { provider: provider.id, issuer: claims.iss, subject: claims.sub, email },
      });
      const account = (await this.users.account({ id: userId })) as LoginRow;
      await this.recordLogin(account, provider, claims, !existing);
      return account;
    });
  }

  private async recordLogin(
    account: LoginRow,
    provider: SsoProvider,
    claims: oidc.IDToken,
    provisioned: boolean,
  ): Promise<void> {
    await this.audit.record({
      tenantId: account.tenant_id,
      eventType: 'auth.sso.login',
      resourceType: 'user',
      resourceId: account.id,
      details: { provider: provider.id, issuer: claims.iss, subject: claims.sub, provisioned },
    });
  }
}

/** openid-client's errors name what failed (state, nonce, signature, `invalid_grant` from the token endpoint). */
function describe(failure: unknown): string {
  const error = failure as {
    message?: string;
    error?: string;
    error_description?: string;
    cause?: unknown;
  };
  if (error.error) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  // openid-client wraps oauth4webapi's error, whose message names the claim (`unexpected ID Token "nonce" ...`).
  if (error.cause instanceof Error) return error.cause.message;
  return error.message ?? 'the provider refused the code';
}
