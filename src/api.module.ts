import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import type { AppOptions } from './app.options';
import { AuthModule } from './core/auth/auth.module';
import { CoreModule } from './core/core.module';
import { SecretsModule } from './core/secrets/secrets.module';
import { AllExceptionsFilter } from './core/http/all-exceptions.filter';
import { ContentTypeInterceptor } from './core/http/content-type.interceptor';
import { HttpDrain } from './core/http/http-drain';
import { IdempotencyModule } from './core/http/idempotency/idempotency.module';
import {
  PublicRateLimitGuard,
  RateLimitInterceptor,
  RequestBudgets,
} from './core/http/rate-limit/request-budgets';
import { RateLimiter } from './core/http/rate-limit/rate-limiter';
import { createValidationPipe } from './core/http/validation.pipe';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AssistantModule } from './modules/assistant/assistant.module';
import { AuditModule } from './modules/audit/audit.module';
import { DataModule } from './modules/data/data.module';
import { DocumentsModule } from './modules/documents/documents.module';
import { HealthModule } from './modules/health/health.module';
import { ObservabilityModule } from './modules/observability/observability.module';
import { PackagesModule } from './modules/packages/packages.module';
import { PipelinesModule } from './modules/pipelines/pipelines.module';
import { PoliciesModule } from './modules/policies/policies.module';
import { RealtimeModule } from './modules/realtime/realtime.module';
import { RunsModule } from './modules/runs/runs.module';
import { SsoModule } from './modules/sso/sso.module';
import { StorageModule } from './modules/storage/storage.module';
import { TriggersModule } from './modules/triggers/triggers.module';
import { TenantsModule } from './modules/tenants/tenants.module';
import { UsersModule } from './modules/users/users.module';
import { WorkflowsModule } from './modules/workflows/workflows.module';

/** The API process: controllers and gateways over the shared core and the domain modules. */
@Module({})
export class ApiModule {
  static forRoot(options: AppOptions = {}): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot({ role: 'api', env: options.env, extraJobs: options.extraJobs }),
        AuthModule,
        SecretsModule,
        IdempotencyModule.forRoot('api'),
        AuditModule,
        DataModule,
        ApiKeysModule,
        UsersModule,
        PoliciesModule,
        SsoModule,
        TenantsModule,
        WorkflowsModule,
        RunsModule,
        RealtimeModule,
        TriggersModule.forRoot('api'),
        HealthModule,
        ObservabilityModule,
        StorageModule.forRoot('api'),
        DocumentsModule.forRoot('api'),
        AssistantModule,
        PackagesModule,
        PipelinesModule.forRoot('api'),
        ...(options.imports ?? []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        RateLimiter,
        RequestBudgets,
        HttpDrain,
        // A public route's per-IP budget, before the route's own guards (signatures, signed URLs) do any work.
        { provide: APP_GUARD, useClass: PublicRateLimitGuard },
        // Outermost first: the rate limit counts every authenticated request, then the 415 check.
        { provide: APP_INTERCEPTOR, useClass: RateLimitInterceptor },
        { provide: APP_INTERCEPTOR, useClass: ContentTypeInterceptor },
      ],
    };
  }
}
