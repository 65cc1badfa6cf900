/** Implemented by the tenants module: whether a tenant a token names exists (tenants are never deleted). */
export abstract class TenantDirectory {
  abstract exists(tenantId: string): Promise<boolean>;
}
