import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import passport from 'passport';
import { AuthConfig } from '../config/auth.config';
import { AuthenticationRequiredException, InvalidTokenException } from './auth.exceptions';
import { ApiKeyStrategy } from './api-key.strategy';
import { JwtStrategy } from './jwt.strategy';
import type { Principal } from './principal';

const BYPASS: Principal = { role: 'admin', via: 'bypass' };

/** What credentials arrive on: an HTTP request, or a socket's token dressed as one. */
export interface CredentialCarrier {
  headers: IncomingHttpHeaders;
}

/**
 * Who is calling, from an API key or a JWT (the passport strategies `api-key` and `jwt`). One place for the
 * HTTP guard and the WebSocket handshake, so both accept exactly the same credentials.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly config: AuthConfig,
    private readonly apiKey: ApiKeyStrategy,
    private readonly jwt: JwtStrategy,
  ) {}

  async authenticate(carrier: CredentialCarrier): Promise<Principal> {
    if (this.config.AUTH_BYPASS) return BYPASS;
    // An API key is checked directly, without passport's per-call machinery (the hot path of machine callers);
    // when it fails, a bearer JWT may still succeed, exactly as passport's strategy chain would have it.
    const principal = await this.apiKey.validate(carrier);
    return principal || this.viaJwt(carrier);
  }

  private viaJwt(carrier: CredentialCarrier): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      // This app's own strategy instance, not passport's process-wide registry (which the last app to start
      // would own), wrapped per call as passport hangs the call's callbacks on it.
      const middleware = passport.authenticate(
        [Object.create(this.jwt)],
        { session: false },
        (error: unknown, user: Principal | false, info: unknown) => {
          if (user) return resolve(user);
          if (error) return reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          const { authorization, 'x-api-key': apiKey } = carrier.headers;
          if (!authorization && !apiKey) return reject(new AuthenticationRequiredException());
          reject(new InvalidTokenException(reasonOf(info)));
        },
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      middleware(carrier, {}, (error?: unknown) =>
        reject(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /** A socket's credential: a JWT or an API key. */
  authenticateToken(token: string): Promise<Principal> {
    return this.authenticate({ headers: token ? { authorization: `Bearer ${token}` } : {} });
  }
}

/** passport reports one entry per strategy tried; the JWT library's message is the useful one. */
function reasonOf(info: unknown): string {
  const entries = (Array.isArray(info) ? info : [info]).filter(
    (entry): entry is Error => entry instanceof Error,
  );
  const message = entries.map((entry) => entry.message).find((text) => text !== 'No auth token');
  return message ?? 'unknown, malformed or revoked credential';
}
