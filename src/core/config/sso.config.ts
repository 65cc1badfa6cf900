import { Transform } from 'class-transformer';
import { IsInt, Max, Min, registerDecorator } from 'class-validator';
import { isTenantRole, TENANT_ID_PATTERN, type TenantRole } from '../auth/principal';

/** One OpenID Connect provider users may sign in with. */
export interface SsoProvider {
  /** The path segment: `/auth/sso/{id}/login`. */
  id: string;
  /** The provider's issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  client_id: string;
  client_secret?: string;
  /** Requested scopes; `openid email profile` by default. */
  scopes: string;
  /** The tenant its users are provisioned into. */
  tenant_id: string;
  /** The role a provisioned user gets. */
  default_role: TenantRole;
  /** Email domains allowed to sign in (lower case); empty allows every verified email. */
  allowed_domains: string[];
  /** Where the SPA may ask to be sent back to (exact URLs); a login naming another answers 400. */
  redirect_uris: string[];
  /** The callback registered at the provider; default: this API's `/api/v1/auth/sso/{id}/callback` on the request's origin. */
  callback_url?: string;
}

const ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Every problem of a `SSO_PROVIDERS` value, each naming the provider and field (empty: valid). */
export function ssoProviderProblems(raw: unknown): string[] {
  if (!Array.isArray(raw)) return ['must be a JSON array of providers'];
  const problems: string[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) return problems.push(`[${index}] must be an object`);
    const p = entry as Record<string, unknown>;
    const name = typeof p.id === 'string' ? `'${p.id}'` : `[${index}]`;
    const url = (value: unknown) => {
      try {
        return typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    };
    const strings = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === 'string');
    if (typeof p.id !== 'string' || !ID.test(p.id)) problems.push(`${name}.id must match ${ID.source}`);
    else if (seen.has(p.id)) problems.push(`${name}.id is used twice`);
    else seen.add(p.id);
    if (!url(p.issuer)) problems.push(`${name}.issuer must be an http(s) URL`);
    if (typeof p.client_id !== 'string' || !p.client_id) problems.push(`${name}.client_id is required`);
    if (p.client_secret !== undefined && typeof p.client_secret !== 'string')
      problems.push(`${name}.client_secret must be a string`);
    if (p.scopes !== undefined && (typeof p.scopes !== 'string' || !p.scopes.split(' ').includes('openid')))
      problems.push(`${name}.scopes must be a space-separated string including openid`);
    if (typeof p.tenant_id !== 'string' || !TENANT_ID_PATTERN.test(p.tenant_id))
      problems.push(`${name}.tenant_id must be a tenant id`);
    if (p.default_role !== undefined && !isTenantRole(p.default_role))
      problems.push(`${name}.default_role must be owner, member or viewer`);
    if (p.allowed_domains !== undefined && !strings(p.allowed_domains))
      problems.push(`${name}.allowed_domains must be an array of domains`);
    if (!strings(p.redirect_uris) || !(p.redirect_uris as unknown[]).every(url))
      problems.push(`${name}.redirect_uris must be an array of http(s) URLs`);
    if (p.callback_url !== undefined && !url(p.callback_url))
      problems.push(`${name}.callback_url must be an http(s) URL`);
    return undefined;
  });
  return problems;
}

function parseProviders(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function withDefaults(raw: unknown): unknown {
  if (ssoProviderProblems(raw).length > 0) return raw;
  return (raw as Array<Record<string, unknown>>).map((p) => ({
    scopes: 'openid email profile',
    default_role: 'member',
    ...p,
    allowed_domains: ((p.allowed_domains as string[] | undefined) ?? []).map((d) => d.toLowerCase()),
  }));
}

const IsSsoProviders = () =>
  registerDecorator({
    name: 'isSsoProviders',
    target: SsoConfig,
    propertyName: 'SSO_PROVIDERS',
    validator: {
      validate: (value: unknown) => ssoProviderProblems(value).length === 0,
      defaultMessage: (args) =>
        typeof args?.value === 'string'
          ? 'must be JSON (an array of providers)'
          : ssoProviderProblems(args?.value).join('; '),
    },
  });

/** Single sign-on with OpenID Connect providers (authorization code + PKCE). */
export class SsoConfig {
  /**
   * The OpenID Connect providers, a JSON array: `[{"id": "okta", "issuer": "https://acme.okta.com", "client_id":
   * "...", "client_secret": "...", "tenant_id": "acme", "default_role": "member", "allowed_domains": ["acme.com"],
   * "redirect_uris": ["https://app.acme.com/sso"]}]` (`scopes`, `default_role`, `allowed_domains`,
   * `callback_url` optional; see docs/access.md).
   */
  @Transform(({ value }: { value: unknown }) => withDefaults(parseProviders(value)))
  SSO_PROVIDERS: SsoProvider[] = [];

  /** How long a login's state, nonce and PKCE verifier wait for the provider's callback (single use). */
  @IsInt()
  @Min(30)
  @Max(3600)
  SSO_STATE_TTL_SECONDS: number = 600;
}

IsSsoProviders();
