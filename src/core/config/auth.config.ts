import { IsBoolean, IsEmail, IsInt, IsOptional, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';
import { EnvBoolean } from './config.loader';

export class AuthConfig {
  /**
   * Signs Conflux's own tokens (login) and verifies HS256 tokens, Conflux's and an external IdP's; required, at
   * least 32 characters (`npm start` generates one into `.data/jwt-secret`).
   */
  @IsString({ message: 'is required: at least 32 random characters (`npm start` generates one)' })
  @MinLength(32)
  JWT_SECRET: string;

  /** An IdP's JWKS endpoint: RS256 and ES256 tokens are verified against its keys. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  JWT_JWKS_URL?: string;

  /** When set, external tokens must carry this `iss` (Conflux's own carry `conflux`). */
  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  /** When set, every token must carry this `aud`; Conflux's own tokens are issued with it. */
  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  /** Lifetime of the tokens `POST /auth/login` issues. */
  @IsInt()
  @Min(60)
  @Max(86_400)
  JWT_EXPIRES_IN_SECONDS: number = 3600;

  /**
   * Accept tokens without `exp` (some IdPs issue them) when their `iat` is at most this many seconds old (a token
   * with `exp` is judged by its `exp` alone); unset, a token without `exp` is refused (401).
   */
  @IsOptional()
  @IsInt()
  @Min(60)
  JWT_MAX_AGE_SECONDS?: number;

  /** How long a process reuses a verified API key; revocations reach every process at once over Redis; 0 turns it off. */
  @IsInt()
  @Min(0)
  AUTH_API_KEY_CACHE_MS: number = 10_000;

  /** How long a process reuses a tenant's enabled access policies; changes reach every process at once over Redis; 0 turns it off. */
  @IsInt()
  @Min(0)
  AUTH_POLICY_CACHE_MS: number = 10_000;

  /** Development only: every request acts as a platform admin. Refused when NODE_ENV=production. */
  @IsBoolean()
  @EnvBoolean()
  AUTH_BYPASS: boolean = false;

  /** The platform admin created on first start. */
  @IsEmail()
  ADMIN_EMAIL: string = 'admin@conflux.local';

  /** Its password; when unset on first start, one is generated and printed once. */
  @IsOptional()
  @IsString()
  @MinLength(8)
  ADMIN_PASSWORD?: string;
}
