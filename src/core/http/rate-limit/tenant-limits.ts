export interface PipelineLimits {
  plan: string;
  /** Pipeline runs per UTC day. */
  daily: number;
  /** Pipeline runs PENDING or RUNNING at once. */
  concurrent: number;
  /** Distinct providers the tenant's pipelines may use. */
  providers: number;
}

/** Implemented by the tenants module: a tenant's budgets from its plan. */
export abstract class TenantLimits {
  abstract forTenant(tenantId: string): Promise<{ perMinute: number; perHour: number } | undefined>;

  abstract pipelineLimits(tenantId: string): Promise<PipelineLimits | undefined>;
}
