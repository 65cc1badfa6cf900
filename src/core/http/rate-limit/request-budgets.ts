import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { from, type Observable, switchMap } from 'rxjs';
import type { Principal } from '../../auth/principal';
import { RateLimitConfig } from '../../config/rate-limit.config';
import { AUTH_METADATA } from '../../auth/auth.decorator';
import { AppException } from '../app.exception';
import { type NamedLimit, RATE_LIMIT_METADATA } from './rate-limit.decorator';
import { type Policy, type PolicyState, RateLimiter } from './rate-limiter';
import { TenantLimits } from './tenant-limits';

export class RateLimitedException extends AppException {
  constructor(blocked: PolicyState) {
    super(
      'RATE_LIMITED',
      HttpStatus.TOO_MANY_REQUESTS,
      `Rate limit '${blocked.name}' (${blocked.limit} per ${blocked.windowSeconds} s) exceeded; retry in ${blocked.resetSeconds} s`,
      { policy: blocked.name, limit: blocked.limit, window_seconds: blocked.windowSeconds },
      undefined,
      blocked.resetSeconds,
    );
  }
}

/** What a route's metadata says about its limits: exempt (`false`), a named limit, and whether it is public. */
interface RouteLimits {
  named: NamedLimit | false | undefined;
  isPublic: boolean;
}

/**
 * The request budgets, charged in two places so that every request counts once and as early as it can be:
 * a public route (login, a webhook delivery, a signed URL) charges the global and per-IP budgets in
 * `PublicRateLimitGuard`, before its own guards do any work (a flood of badly signed deliveries is refused
 * by its IP's budget, not by signature checks and lookups); everything known only once a caller is identified
 * (the tenant's plan budgets and named limits) is charged by `RateLimitInterceptor`, after the guards, so a
 * request the auth guard refuses never spends a tenant's budget. The response carries the states of both.
 */
@Injectable()
export class RequestBudgets {
  private readonly logger = new Logger('RateLimit');
  private readonly planCache = new Map<
    string,
    { value: { perMinute: number; perHour: number } | undefined; until: number }
  >();

  constructor(
    private readonly limiter: RateLimiter,
    private readonly tenantLimits: TenantLimits,
    private readonly config: RateLimitConfig,
    private readonly reflector: Reflector,
  ) {}

  route(context: ExecutionContext): RouteLimits {
    const targets = [context.getHandler(), context.getClass()];
    return {
      named: this.reflector.getAllAndOverride<NamedLimit | false | undefined>(RATE_LIMIT_METADATA, targets),
      isPublic:
        this.reflector.getAllAndOverride<{ public?: boolean } | undefined>(AUTH_METADATA, targets)?.public ===
        true,
    };
  }

  global(): Policy {
    return {
      name: 'global',
      subject: 'global',
      limit: this.config.RATE_LIMIT_GLOBAL_PER_MINUTE,
      windowSeconds: 60,
    };
  }

  /** A public route's caller, before anything else is known of it: its IP (and the login limit on login). */
  callerPolicies(ip: string, named: NamedLimit | undefined): Policy[] {
    const policies: Policy[] = [
      this.global(),
      { name: 'ip', subject: `ip:${ip}`, limit: this.config.RATE_LIMIT_IP_PER_MINUTE, windowSeconds: 60 },
    ];
    if (named === 'login') {
      const limit = this.config.RATE_LIMIT_LOGIN_PER_MINUTE;
      policies.push({ name: 'login', subject: `ip:${ip}`, limit, windowSeconds: 60 });
    }
    return policies;
  }

  /** The tenant's plan budgets per minute and hour, and the named limits a route opts into. */
  async tenantPolicies(tenantId: string | undefined, named: NamedLimit | undefined): Promise<Policy[]> {
    if (!tenantId) return [];
    const policies: Policy[] = [];
    const subject = `tenant:${tenantId}`;
    const plan = await this.planLimits(tenantId);
    if (plan) {
      policies.push({ name: 'tenant-minute', subject, limit: plan.perMinute, windowSeconds: 60 });
      policies.push({ name: 'tenant-hour', subject, limit: plan.perHour, windowSeconds: 3600 });
    }
    if (named === 'pipeline-runs') {
      const limit = this.config.RATE_LIMIT_PIPELINE_RUNS_PER_MINUTE;
      policies.push({ name: 'pipeline-runs', subject, limit, windowSeconds: 60 });
    }
    if (named === 'ai') {
      policies.push({ name: 'ai', subject, limit: this.config.RATE_LIMIT_AI_PER_MINUTE, windowSeconds: 60 });
    }
    return policies;
  }

  /**
   * Spends one of each budget; the response's headers show every budget this request spent (the guard's and
   * the interceptor's). Over a budget: 429. A response that ends 401/403 is refunded to the tenant.
   */
  async charge(res: Response, policies: Policy[]): Promise<void> {
    const decision = await this.limiter.consume(policies);
    const states = [...((res.locals.rateLimitStates as PolicyState[] | undefined) ?? []), ...decision.states];
    res.locals.rateLimitStates = states;
    setHeaders(res, states);
    if (!decision.allowed) throw new RateLimitedException(decision.blocked);
    const tenantKeys = decision.keys.filter((_key, i) => decision.states[i].subject.startsWith('tenant:'));
    if (tenantKeys.length === 0) return;
    res.once('finish', () => {
      if (res.statusCode !== 401 && res.statusCode !== 403) return;
      this.limiter
        .refund(tenantKeys)
        .catch((error: Error) => this.logger.warn(`refund failed: ${error.message}`));
    });
  }

  private async planLimits(tenantId: string) {
    const cached = this.planCache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.value;
    const value = await this.tenantLimits.forTenant(tenantId);
    this.planCache.set(tenantId, { value, until: Date.now() + this.config.RATE_LIMIT_PLAN_CACHE_MS });
    return value;
  }
}

/** Global guard: a public route's global and per-IP budgets, before the route's own guards run. */
@Injectable()
export class PublicRateLimitGuard implements CanActivate {
  constructor(private readonly budgets: RequestBudgets) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const { named, isPublic } = this.budgets.route(context);
    if (!isPublic || named === false) return true;
    const { ip } = context.switchToHttp().getRequest<Request>();
    await this.budgets.charge(
      context.switchToHttp().getResponse<Response>(),
      this.budgets.callerPolicies(ip ?? 'unknown', named),
    );
    return true;
  }
}

/**
 * Global interceptor (so it runs after the guards: requests the auth guard refuses never count against a
 * tenant): the global budget on authenticated routes, and the caller's tenant budgets and named limits.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  constructor(private readonly budgets: RequestBudgets) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const { named, isPublic } = this.budgets.route(context);
    if (named === false) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const tenantId = (req.user as Principal | undefined)?.tenant_id;
    if (isPublic && !tenantId) return next.handle();
    return from(this.policies(tenantId, named, isPublic)).pipe(
      switchMap((policies) => this.budgets.charge(context.switchToHttp().getResponse<Response>(), policies)),
      switchMap(() => next.handle()),
    );
  }

  private async policies(tenantId: string | undefined, named: NamedLimit | undefined, isPublic: boolean) {
    const tenant = await this.budgets.tenantPolicies(tenantId, named);
    return isPublic ? tenant : [this.budgets.global(), ...tenant];
  }
}

/** `X-RateLimit-Tenant-*` for tenant callers, and the IETF `RateLimit-Policy` / `RateLimit` fields for everyone. */
function setHeaders(res: Response, states: PolicyState[]): void {
  res.setHeader(
    'RateLimit-Policy',
    states.map((s) => `"${s.name}";q=${s.limit};w=${s.windowSeconds}`).join(', '),
  );
  const tightest = states.reduce((a, b) => (b.remaining / b.limit < a.remaining / a.limit ? b : a));
  res.setHeader('RateLimit', `"${tightest.name}";r=${tightest.remaining};t=${tightest.resetSeconds}`);
  const tenant = states.filter((s) => s.subject.startsWith('tenant:'));
  const minute = tenant.find((s) => s.name === 'tenant-minute');
  if (minute) {
    res.setHeader('X-RateLimit-Tenant-Limit', String(minute.limit));
    res.setHeader('X-RateLimit-Tenant-Remaining', String(Math.min(...tenant.map((s) => s.remaining))));
  }
}
