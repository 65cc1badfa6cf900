export const TENANT_ROLES = ['owner', 'member', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];
export type Role = TenantRole | 'admin';

const RANK: Record<Role, number> = { viewer: 1, member: 2, owner: 3, admin: 4 };

/** Who is calling. The tenant comes only from here, never from a body, query or header. */
export interface Principal {
  role: Role;
  via: 'jwt' | 'api_key' | 'bypass' | 'webhook';
  tenant_id?: string;
  user_id?: string;
  api_key_id?: string;
  email?: string;
}

export function hasRole(principal: Principal, required: Role): boolean {
  return RANK[principal.role] >= RANK[required];
}

export function isTenantRole(value: unknown): value is TenantRole {
  return typeof value === 'string' && (TENANT_ROLES as readonly string[]).includes(value);
}

export const TENANT_ID_PATTERN = /^[a-zA-Z0-9_]{3,50}$/;

/** How the audit log names a principal: `user:<id>`, `api_key:<id>`, `tenant:<id>`, `admin`, `bypass`. */
export function actorOf(principal: Principal | undefined): string {
  if (!principal) return 'system';
  if (principal.via === 'bypass') return 'bypass';
  if (principal.via === 'webhook') return `webhook:${principal.tenant_id ?? '?'}`;
  if (principal.api_key_id) return `api_key:${principal.api_key_id}`;
  if (principal.user_id) return `user:${principal.user_id}`;
  if (principal.role === 'admin') return 'admin';
  return `tenant:${principal.tenant_id ?? '?'}`;
}
