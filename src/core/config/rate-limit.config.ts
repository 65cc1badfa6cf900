import { IsInt, Min } from 'class-validator';

/** Request budgets. Per-tenant limits come from the tenant's plan (plans.requests_per_minute / _per_hour). */
export class RateLimitConfig {
  /** Every request of every caller, across all API processes. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_GLOBAL_PER_MINUTE: number = 10_000;

  /** Per client IP, for requests without a credential (public endpoints). */
  @IsInt()
  @Min(1)
  RATE_LIMIT_IP_PER_MINUTE: number = 120;

  /** Per client IP on `POST /auth/login` (brute force). */
  @IsInt()
  @Min(1)
  RATE_LIMIT_LOGIN_PER_MINUTE: number = 10;

  /** Per tenant on endpoints that start pipeline runs, on top of the tenant's plan budget. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_PIPELINE_RUNS_PER_MINUTE: number = 50;

  /** Per tenant on the SQL assistant (`/ai/sql/suggest`, `/ai/query`), on top of the tenant's plan budget. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_AI_PER_MINUTE: number = 30;

  /** How long a process reuses a tenant's plan limits before reading them again. */
  @IsInt()
  @Min(0)
  RATE_LIMIT_PLAN_CACHE_MS: number = 30_000;
}
