import { Injectable } from '@nestjs/common';
import type { Principal, TenantRole } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import type { Page } from '../../core/http/pagination';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { AuditService } from '../audit/audit.service';
import { buildAbility, type EffectiveAbility } from './ability.factory';
import type { DryRunDto, DryRunResponse, PolicyBodyDto, PolicyResponse } from './dto/policy.dto';
import type { PolicyEntity } from './entities/policy.entity';
import {
  InvalidPolicyException,
  PolicyDeniedException,
  PolicyNameTakenException,
  PolicyNotFoundException,
} from './policies.exceptions';
import { type PolicyFields, PoliciesRepository } from './policies.repository';
import { PolicyCache } from './policy-cache';
import { POLICY_ACTIONS, type PolicyAction, type PolicySubject, ruleProblems } from './policy-rules';

const DEFAULT_ROLES: PolicyFields['roles'] = ['member', 'viewer'];

/** Access policies: managed by owners, tried with a dry run, enforced by `assert` in the services. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly repository: PoliciesRepository,
    private readonly cache: PolicyCache,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {}

  create(tenantId: string, body: PolicyBodyDto): Promise<PolicyResponse> {
    const fields = toFields(body);
    return this.tx.run(async () => {
      const row = await this.repository.insert(tenantId, fields).catch(nameTaken(body.name));
      await this.record(row, 'policy.created');
      return toPolicyResponse(row);
    });
  }

  async list(tenantId: string, offset: number, limit: number): Promise<Page<PolicyResponse>> {
    const [rows, total] = await this.repository.list(tenantId, offset, limit);
    return { items: rows.map(toPolicyResponse), total };
  }

  async get(tenantId: string, id: string): Promise<PolicyResponse> {
    const row = await this.repository.find(tenantId, id);
    if (!row) throw new PolicyNotFoundException(id);
    return toPolicyResponse(row);
  }

  replace(tenantId: string, id: string, body: PolicyBodyDto): Promise<PolicyResponse> {
    const fields = toFields(body);
    return this.tx.run(async () => {
      const row = await this.repository.replace(tenantId, id, fields).catch(nameTaken(body.name));
      if (!row) throw new PolicyNotFoundException(id);
      await this.record(row, 'policy.updated');
      return toPolicyResponse(row);
    });
  }

  remove(tenantId: string, id: string): Promise<void> {
    return this.tx.run(async () => {
      const row = await this.repository.delete(tenantId, id);
      if (!row) throw new PolicyNotFoundException(id);
      await this.record(row, 'policy.deleted');
    });
  }

  /** The policy applied to sample records: for each record and action, whether it is allowed and on which fields. */
  dryRun(body: DryRunDto): DryRunResponse {
    const problems = ruleProblems(body.policy.rules);
    if (problems.length > 0) throw new InvalidPolicyException(problems);
    const role = body.role ?? 'member';
    const ability = buildAbility(role, [
      { id: 'dryrun', name: 'dry run', roles: body.policy.roles ?? [role], rules: body.policy.rules },
    ]);
    const actions = body.actions ?? POLICY_ACTIONS.filter((action) => action !== 'manage');
    const results = body.records.flatMap((sample, index) =>
      actions.map((action) => {
        const allowed = ability.can(action, sample.subject, sample.data);
        const reason = allowed ? undefined : ability.refusal(action, sample.subject, sample.data).reason;
        return {
          record: index,
          subject: sample.subject,
          action,
          allowed,
          fields: allowed ? ability.fields(action, sample.subject, sample.data) : [],
          ...(reason ? { reason } : {}),
        };
      }),
    );
    return { role, results };
  }

  /** The principal's effective ability: its role's defaults narrowed by its tenant's enabled policies. */
  async abilityFor(principal: Principal): Promise<EffectiveAbility> {
    const policies = principal.tenant_id ? await this.enabled(principal.tenant_id) : [];
    return buildAbility(principal.role, policies);
  }

  /**
   * The enforcement call services make (`await this.policies.assert('run', 'Workflow', workflow)`): throws 403
   * INSUFFICIENT_PERMISSIONS when the tenant's policies refuse the request's principal, and audits the refusal
   * (`policy.denied`, committed even though the request rolls back). Platform admins, webhook deliveries and
   * work without a request principal (schedules, the engine) are not bound by tenant policies.
   */
  async assert(
    action: PolicyAction,
    subject: PolicySubject,
    record: object | (() => Promise<object>),
    principal: Principal | undefined = currentPrincipal(),
  ): Promise<void> {
    if (!principal?.tenant_id || principal.role === 'admin' || principal.via === 'webhook') return;
    const policies = (await this.enabled(principal.tenant_id)).filter((p) =>
      p.roles.includes(principal.role as TenantRole),
    );
    if (policies.length === 0) return;
    const data = (typeof record === 'function' ? await record() : record) as Record<string, unknown>;
    const ability = buildAbility(principal.role, policies);
    if (ability.can(action, subject, data)) return;
    const { policy, reason } = ability.refusal(action, subject, data);
    const tenantId = principal.tenant_id;
    await this.tx.detached(() =>
      this.audit.record({
        tenantId,
        eventType: 'policy.denied',
        resourceType: subject.toLowerCase(),
        resourceId: typeof data.id === 'string' ? data.id : null,
        details: {
          action,
          subject,
          role: principal.role,
          ...(policy ? { policy_id: policy.id, policy: policy.name } : {}),
          ...(reason ? { reason } : {}),
        },
      }),
    );
    throw new PolicyDeniedException(action, subject, policy, reason);
  }

  private enabled(tenantId: string): Promise<readonly PolicyEntity[]> {
    return this.cache.through(tenantId, () => this.repository.enabled(tenantId));
  }

  /** Audits a change and, once it commits (before the request answers), has every process forget the old set. */
  private async record(row: PolicyEntity, eventType: string): Promise<void> {
    this.tx.afterCommit(() => this.cache.changed(row.tenant_id));
    await this.audit.record({
      tenantId: row.tenant_id,
      eventType,
      resourceType: 'policy',
      resourceId: row.id,
      details: { name: row.name, version: row.version, roles: row.roles, enabled: row.enabled },
    });
  }
}

function toFields(body: PolicyBodyDto): PolicyFields {
  const problems = ruleProblems(body.rules);
  if (problems.length > 0) throw new InvalidPolicyException(problems);
  return {
    name: body.name,
    description: body.description ?? '',
    roles: [...new Set(body.roles ?? DEFAULT_ROLES)],
    rules: body.rules,
    enabled: body.enabled ?? true,
  };
}

const nameTaken =
  (name: string) =>
  (error: unknown): never => {
    if ((error as { code?: string }).code === '23505') throw new PolicyNameTakenException(name);
    throw error;
  };

export function toPolicyResponse(row: PolicyEntity): PolicyResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    description: row.description,
    roles: row.roles,
    rules: row.rules,
    enabled: row.enabled,
    version: row.version,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
