import {
  type CallHandler,
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

/**
 * Global interceptor (so it runs after the auth guard: requests refused there never count). Budgets: global;
 * per tenant per minute and hour from the plan, plus named limits a route opts into; per IP for callers
 * without a credential. A response that ends 401/403 is refunded to the tenant.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const named = this.reflector.getAllAndOverride<NamedLimit | false | undefined>(RATE_LIMIT_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (named === false) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();

    const isPublic =
      this.reflector.getAllAndOverride<{ public?: boolean } | undefined>(AUTH_METADATA, [
        context.getHandler(),
        context.getClass(),
      ])?.public === true;
    const principal = req.user as Principal | undefined;
    return from(this.policies(principal, req.ip ?? 'unknown', named, isPublic)).pipe(
      switchMap(async (policies) => {
        const decision = await this.limiter.consume(policies);
        setHeaders(res, decision.states);
        if (!decision.allowed) throw new RateLimitedException(decision.blocked);
        const tenantKeys = decision.keys.filter((key, i) => decision.states[i].subject.startsWith('tenant:'));
        res.once('finish', () => {
          if (res.statusCode !== 401 && res.statusCode !== 403) return;
          this.limiter
            .refund(tenantKeys)
            .catch((error: Error) => this.logger.warn(`refund failed: ${error.message}`));
        });
      }),
      switchMap(() => next.handle()),
    );
  }

  /** A public route (login, a webhook delivery) always counts against its caller's IP, credential or not. */
  private async policies(
    principal: Principal | undefined,
    ip: string,
    named: NamedLimit | undefined,
    isPublic: boolean,
  ): Promise<Policy[]> {
    const policies: Policy[] = [
      {
        name: 'global',
        subject: 'global',
        limit: this.config.RATE_LIMIT_GLOBAL_PER_MINUTE,
        windowSeconds: 60,
      },
    ];
    const tenantId = principal?.tenant_id;
    if (tenantId) {
      const plan = await this.planLimits(tenantId);
      if (plan) {
        policies.push({
          name: 'tenant-minute',
          subject: `tenant:${tenantId}`,
          limit: plan.perMinute,
          windowSeconds: 60,
        });
        policies.push({
          name: 'tenant-hour',
          subject: `tenant:${tenantId}`,
          limit: plan.perHour,
          windowSeconds: 3600,
        });
      }
      if (named === 'pipeline-runs') {
        const limit = this.config.RATE_LIMIT_PIPELINE_RUNS_PER_MINUTE;
        policies.push({ name: 'pipeline-runs', subject: `tenant:${tenantId}`, limit, windowSeconds: 60 });
      }
      if (named === 'ai') {
        const limit = this.config.RATE_LIMIT_AI_PER_MINUTE;
        policies.push({ name: 'ai', subject: `tenant:${tenantId}`, limit, windowSeconds: 60 });
      }
    }
    if (!principal || isPublic) {
      policies.push({
        name: 'ip',
        subject: `ip:${ip}`,
        limit: this.config.RATE_LIMIT_IP_PER_MINUTE,
        windowSeconds: 60,
      });
      if (named === 'login') {
        policies.push({
          name: 'login',
          subject: `ip:${ip}`,
          limit: this.config.RATE_LIMIT_LOGIN_PER_MINUTE,
          windowSeconds: 60,
        });
      }
    }
    return policies;
  }

  private async planLimits(tenantId: string) {
    const cached = this.planCache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.value;
    const value = await this.tenantLimits.forTenant(tenantId);
    this.planCache.set(tenantId, { value, until: Date.now() + this.config.RATE_LIMIT_PLAN_CACHE_MS });
    return value;
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
