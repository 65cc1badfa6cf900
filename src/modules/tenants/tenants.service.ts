import { randomBytes } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InsufficientPermissionsException } from '../../core/auth/auth.exceptions';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { ValidationFailedException } from '../../core/http/app.exception';
import type { Page } from '../../core/http/pagination';
import { type PipelineLimits, TenantLimits } from '../../core/http/rate-limit/tenant-limits';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import { PipelineDryRun } from '../pipelines/steps/pipeline-dry-run';
import { DatasetRepository } from '../data/dataset.repository';
import { UsersService } from '../users/users.service';
import type {
  OnboardTenantDto,
  OnboardTenantResponse,
  QuotaResponse,
  TenantResponse,
  UpdateTenantDto,
} from './dto/tenant.dto';
import type { PlanEntity } from './entities/plan.entity';
import type { TenantEntity } from './entities/tenant.entity';
import {
  ConfigVersionConflictException,
  DryRunFailedException,
  TenantExistsException,
  TenantNotFoundException,
} from './tenants.exceptions';
import { type TenantChanges, TenantsRepository } from './tenants.repository';
import type { TenantId } from '../../core/tenancy/tenant-id';
import { RunReads } from '../engine/persistence/run-reads';

@Injectable()
export class TenantsService extends TenantLimits {
  private readonly known = new Set<string>();

  constructor(
    private readonly repository: TenantsRepository,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
    private readonly datasets: DatasetRepository,
    private readonly dryRun: PipelineDryRun,
    private readonly runs: RunReads,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {
    super();
  }

  /** The auth guard asks for every JWT naming a tenant; tenants are never deleted, so a yes is kept. */
  async exists(tenantId: string): Promise<boolean> {
    if (this.known.has(tenantId)) return true;
    const found = (await this.repository.findById(tenantId)) !== null;
    if (found && this.known.size < 100_000) this.known.add(tenantId);
    return found;
  }

  /** The request budget of the tenant's plan (the rate limiter asks). */
  async forTenant(tenantId: string): Promise<{ perMinute: number; perHour: number } | undefined> {
    const plan = await this.planOf(tenantId);
    return plan ? { perMinute: plan.requests_per_minute, perHour: plan.requests_per_hour } : undefined;
  }

  /** The pipeline quotas of the tenant's plan (the pipelines module asks, in the run's transaction). */
  async pipelineLimits(tenantId: string): Promise<PipelineLimits | undefined> {
    const plan = await this.planOf(tenantId);
    return plan
      ? {
          plan: plan.code,
          daily: plan.daily_pipelines,
          concurrent: plan.concurrent_pipelines,
          providers: plan.providers,
        }
      : undefined;
  }

  private async planOf(tenantId: string): Promise<PlanEntity | null | undefined> {
    const tenant = await this.repository.findById(tenantId);
    return tenant && (await this.repository.plan(tenant.plan_code));
  }

  /**
   * One transaction: the tenant, its owner, an owner API key, its dataset (schema, restricted role, tables)
   * and a dry-run pipeline (PipelineDryRun) read back through that role. Any failure leaves nothing behind; Postgres DDL is transactional.
   */
  onboard(input: OnboardTenantDto): Promise<OnboardTenantResponse> {
    return this.tx.run(async () => {
      if (await this.repository.findById(input.tenant_id)) throw new TenantExistsException(input.tenant_id);
      await this.repository.insert({
        id: input.tenant_id,
        name: input.company_name,
        plan_code: input.subscription_plan,
      });
      const password = input.admin_password ?? randomBytes(12).toString('base64url');
      const owner = await this.users.createMember(
        input.tenant_id,
        { email: input.admin_email, password, role: 'owner' },
        { enforcePlanLimit: false },
      );
      const key = await this.apiKeys.create(input.tenant_id, { name: 'default', role: 'owner' });
      const tables = await this.datasets.provision(input.tenant_id);
      if (!(await this.dryRun.run(input.tenant_id))) throw new DryRunFailedException(input.tenant_id);
      await this.audit.record({
        tenantId: input.tenant_id,
        eventType: 'tenant.onboarded',
        resourceType: 'tenant',
        resourceId: input.tenant_id,
        details: {
          company_name: input.company_name,
          plan: input.subscription_plan,
          owner_user_id: owner.id,
          tables,
        },
      });
      return {
        tenant_id: input.tenant_id,
        api_key: key.api_key,
        subscription_plan: input.subscription_plan,
        dataset_created: true,
        tables_created: tables,
        dryrun_status: 'SUCCESS',
        message: `Tenant '${input.tenant_id}' onboarded: owner ${input.admin_email}, dataset ${this.datasets.schemaName(input.tenant_id)}`,
        owner_user_id: owner.id,
        ...(input.admin_password ? {} : { admin_password: password }),
      };
    });
  }

  async list(principal: Principal, offset: number, limit: number): Promise<Page<TenantResponse>> {
    const onlyId = principal.role === 'admin' ? undefined : principal.tenant_id;
    const [rows, total] = await this.repository.list(offset, limit, onlyId);
    return { items: rows.map(toTenantResponse), total };
  }

  async get(tenantId: string): Promise<TenantResponse> {
    return toTenantResponse(await this.require(tenantId));
  }

  update(principal: Principal, tenantId: string, input: UpdateTenantDto): Promise<TenantResponse> {
    if ((input.state !== undefined || input.subscription_plan !== undefined) && principal.role !== 'admin') {
      throw new InsufficientPermissionsException('admin', principal.role);
    }
    if (input.config !== undefined && input.config_version === undefined) {
      throw new ValidationFailedException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'config_version is required to change config',
        {
          fields: [
            { field: 'config_version', constraints: { isDefined: 'config_version is required with config' } },
          ],
        },
      );
    }
    return this.tx.run(async () => {
      const current = await this.require(tenantId);
      const changes: TenantChanges = {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.subscription_plan !== undefined ? { plan_code: input.subscription_plan } : {}),
        ...(input.config !== undefined ? { config: input.config } : {}),
      };
      const expected = input.config !== undefined ? input.config_version : undefined;
      const updated = await this.repository.update(tenantId, changes, expected);
      if (!updated) throw new ConfigVersionConflictException(expected ?? 0, current.config_version);
      await this.audit.record({
        tenantId,
        eventType: 'tenant.updated',
        resourceType: 'tenant',
        resourceId: tenantId,
        details: { changed: Object.keys(changes), config_version: updated.config_version },
      });
      return toTenantResponse(updated);
    });
  }

  async quota(tenantId: TenantId): Promise<QuotaResponse> {
    const tenant = await this.require(tenantId);
    const plan = await this.repository.plan(tenant.plan_code);
    if (!plan) throw new TenantNotFoundException(tenantId);
    const [pipelines, members, openRuns] = await Promise.all([
      this.datasets.pipelineUsage(tenantId),
      this.users.countMembers(tenantId),
      this.runs.openRootRuns(tenantId, []),
    ]);
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    return {
      tenant_id: tenantId,
      subscription_plan: plan.code,
      limits: {
        daily_pipelines: plan.daily_pipelines,
        concurrent_pipelines: plan.concurrent_pipelines,
        team_members: plan.team_members,
        providers: plan.providers,
        concurrent_runs: plan.concurrent_runs,
      },
      usage: {
        daily_pipelines: pipelines.today,
        concurrent_pipelines: pipelines.running,
        team_members: members,
        providers: pipelines.providers.length,
        concurrent_runs: openRuns,
      },
      resets_at: tomorrow.toISOString(),
    };
  }

  private async require(tenantId: string): Promise<TenantEntity> {
    const tenant = await this.repository.findById(tenantId);
    if (!tenant) throw new TenantNotFoundException(tenantId);
    return tenant;
  }
}

function toTenantResponse(tenant: TenantEntity): TenantResponse {
  return {
    id: tenant.id,
    name: tenant.name,
    state: tenant.state,
    config: tenant.config,
    config_version: tenant.config_version,
    subscription_plan: tenant.plan_code,
    created_at: new Date(tenant.created_at).toISOString(),
  };
}
