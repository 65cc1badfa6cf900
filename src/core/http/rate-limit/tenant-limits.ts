/** Implemented by the tenants module: a tenant's request budget from its plan. */
export abstract class TenantLimits {
  abstract forTenant(tenantId: string): Promise<{ perMinute: number; perHour: number } | undefined>;
}
