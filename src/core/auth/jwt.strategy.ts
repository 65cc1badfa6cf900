import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthConfig } from '../config/auth.config';
import { InvalidTokenException } from './auth.exceptions';
import { isTenantRole, type Principal, TENANT_ID_PATTERN } from './principal';
import { TenantDirectory } from './tenant-directory';
import { CONFLUX_ISSUER } from './token.service';

const ASYMMETRIC = ['RS256', 'ES256'];
const CLOCK_TOLERANCE_SECONDS = 5;

interface Claims {
  sub?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  role?: unknown;
  tenant_id?: unknown;
  email?: unknown;
  app_metadata?: { tenant_id?: unknown; role?: unknown };
}

/**
 * Bearer JWTs: HS256 with JWT_SECRET (Conflux's and an IdP's), RS256/ES256 with the JWKS at JWT_JWKS_URL.
 * The key is chosen by the header's algorithm and each algorithm only ever gets its own kind of key, so
 * `alg: none` and HS/RS confusion (an HMAC made with the public key) fail verification.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly config: AuthConfig,
    private readonly tenants: TenantDirectory,
  ) {
    const jwks = config.JWT_JWKS_URL
      ? new JwksClient({
          jwksUri: config.JWT_JWKS_URL,
          cache: true,
          rateLimit: true,
          jwksRequestsPerMinute: 30,
        })
      : undefined;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: ['HS256', ...(jwks ? ASYMMETRIC : [])] as jwt.Algorithm[],
      ...(config.JWT_ISSUER ? { issuer: [config.JWT_ISSUER, CONFLUX_ISSUER] } : {}),
      ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
      jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
      secretOrKeyProvider: (_req: unknown, raw: string, done: (err: Error | null, key?: string) => void) => {
        const header = jwt.decode(raw, { complete: true })?.header;
        if (header?.alg === 'HS256') return done(null, config.JWT_SECRET);
        if (jwks && header && ASYMMETRIC.includes(header.alg)) {
          jwks.getSigningKey(header.kid).then(
            (key) => done(null, key.getPublicKey()),
            (error: Error) => done(new InvalidTokenException(`signing key not found (${error.message})`)),
          );
          return;
        }
        done(new InvalidTokenException(`algorithm '${header?.alg ?? 'none'}' is not accepted`));
      },
    });
  }

  /**
   * Refuses what would otherwise be accepted forever or fail later: no expiry (unless JWT_MAX_AGE_SECONDS accepts
   * it by its age; a token with `exp` is judged by its `exp` alone), a tenant that does not exist.
   */
  async validate(claims: Claims): Promise<Principal> {
    if (claims.exp === undefined) {
      const maxAge = this.config.JWT_MAX_AGE_SECONDS;
      if (!maxAge) {
        throw new InvalidTokenException(
          'the token has no expiry (exp); set JWT_MAX_AGE_SECONDS to accept such tokens by age',
        );
      }
      const age = typeof claims.iat === 'number' ? Date.now() / 1000 - claims.iat : undefined;
      if (age === undefined || age > maxAge + CLOCK_TOLERANCE_SECONDS) {
        throw new InvalidTokenException(
          age === undefined
            ? 'the token has neither an expiry (exp) nor an issue time (iat)'
            : `the token has no expiry (exp) and was issued more than JWT_MAX_AGE_SECONDS (${maxAge}) ago`,
        );
      }
    }
    const principal = principalFromClaims(claims);
    if (principal.tenant_id && !(await this.tenants.exists(principal.tenant_id))) {
      throw new InvalidTokenException(
        `the token names tenant '${principal.tenant_id}', which does not exist`,
      );
    }
    return principal;
  }
}

/**
 * Claims to a principal. `sub=admin` is a platform admin; `sub=<tenant_id>` without a tenant claim is that
 * tenant's service principal (owner); a Conflux token may carry `role: admin`; otherwise the tenant is
 * `tenant_id` or `app_metadata.tenant_id` and an unrecognised role (an IdP's `authenticated`) is a viewer.
 */
export function principalFromClaims(claims: Claims): Principal {
  const tenant = claims.tenant_id ?? claims.app_metadata?.tenant_id;
  const role = isTenantRole(claims.role) ? claims.role : claims.app_metadata?.role;
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  if (claims.sub === 'admin') return { role: 'admin', via: 'jwt' };
  if (claims.role === 'admin' && claims.iss === CONFLUX_ISSUER && !tenant) {
    return { role: 'admin', via: 'jwt', user_id: claims.sub, email };
  }
  if (tenant === undefined && claims.sub && TENANT_ID_PATTERN.test(claims.sub)) {
    return { role: 'owner', via: 'jwt', tenant_id: claims.sub };
  }
  if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant)) {
    throw new InvalidTokenException('the token names no tenant');
  }
  return {
    role: isTenantRole(role) ? role : 'viewer',
    via: 'jwt',
    tenant_id: tenant,
    user_id: claims.sub,
    email,
  };
}
