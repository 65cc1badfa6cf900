import { HttpStatus, Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { ValidationFailedException } from '../../core/http/app.exception';
import { TenantLimits } from '../../core/http/rate-limit/tenant-limits';
import { AuditService } from '../audit/audit.service';
import { DatasetRepository } from '../data/dataset.repository';
import { EngineService } from '../engine/engine.service';
import { PlanLimitReachedException } from '../users/users.exceptions';
import { inputErrors } from '../workflows/workflow-validator';
import { WorkflowsService } from '../workflows/workflows.service';
import type {
  PipelineRunResponse,
  PipelineRunsQuery,
  PipelineTemplateResponse,
  RunPipelineResponse,
} from './dto/pipelines.dto';
import {
  PipelineAlreadyRunningException,
  PipelineRunNotFoundException,
  QuotaExceededException,
  TemplateNotFoundException,
} from './pipelines.exceptions';
import { type PipelineRunRow, PipelinesRepository } from './pipelines.repository';
import { PipelineTemplates } from './templates/pipeline-templates';
import type { PipelineTemplate } from './templates/template-catalog';

/** The package name pipeline templates install under in a tenant's workflows (one workflow per template). */
export const TEMPLATE_PACKAGE = 'conflux-templates';

/** How long a caller refused by the concurrent quota should wait: about one sample run. */
const CONCURRENT_RETRY_AFTER_S = 10;

@Injectable()
export class PipelinesService {
  constructor(
    private readonly templates: PipelineTemplates,
    private readonly repository: PipelinesRepository,
    private readonly datasets: DatasetRepository,
    private readonly limits: TenantLimits,
    private readonly workflows: WorkflowsService,
    private readonly engine: EngineService,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {}

  listTemplates(): PipelineTemplateResponse[] {
    return this.templates.all.map((t) => ({
      provider: t.provider,
      domain: t.domain,
      template: t.template,
      description: t.description,
      variables: t.variables,
      steps: t.definition.nodes.map((n) => n.type),
    }));
  }

  /**
   * Admits a run of a template and starts it on the engine, in one transaction with the quota checks: the
   * tenant's admissions are serialised by a lock, so concurrent requests never over-admit.
   */
  async run(
    principal: Principal,
    tenantId: string,
    path: { provider: string; domain: string; template: string },
    body: Record<string, unknown>,
  ): Promise<RunPipelineResponse> {
    const template = this.templates.find(path.provider, path.domain, path.template);
    if (!template) throw new TemplateNotFoundException(`${path.provider}/${path.domain}/${path.template}`);
    const pipelineId = `${tenantId}-${template.provider}-${template.domain}-${template.template}`;
    const input = this.inputOf(template, body, { tenantId, pipelineId, principal });
    const limits = await this.limits.pipelineLimits(tenantId);
    if (!limits) throw new Error(`tenant '${tenantId}' has no plan`);
    return this.tx.run(async () => {
      await this.repository.lockAdmissions(tenantId);
      const usage = await this.datasets.pipelineUsage(tenantId);
      if (usage.today >= limits.daily)
        throw new QuotaExceededException(
          'daily_pipelines',
          limits.daily,
          limits.plan,
          secondsToUtcMidnight(),
        );
      if (usage.running >= limits.concurrent)
        throw new QuotaExceededException(
          'concurrent_pipelines',
          limits.concurrent,
          limits.plan,
          CONCURRENT_RETRY_AFTER_S,
        );
      if (!usage.providers.includes(template.provider) && usage.providers.length >= limits.providers)
        throw new PlanLimitReachedException('providers', limits.providers, limits.plan);
      const running = await this.repository.inFlight(tenantId, pipelineId);
      if (running) throw new PipelineAlreadyRunningException(pipelineId, running);
      const installed = await this.workflows.installFromPackage(
        tenantId,
        { sha256: template.sha256, name: TEMPLATE_PACKAGE, version: template.sha256.slice(0, 12) },
        {
          key: template.key,
          name: `pipeline: ${template.key}`,
          description: template.description,
          definition: template.definition,
          input_schema: template.inputSchema,
        },
      );
      const workflow = await this.workflows.require(tenantId, installed.workflow.id);
      // The engine run is inserted first (its id is the pipeline run's), then the pipeline row: the run's first
      // status change is only seen after this commits, when both exist.
      const { run } = await this.engine.start({ tenantId, workflow, input, triggerType: 'pipeline' });
      await this.repository.insert(tenantId, {
        pipeline_logging_id: run.id,
        pipeline_id: pipelineId,
        trigger_type: 'manual',
        trigger_by: input.trigger_by as string,
        details: { template: template.key, date: input.date, workflow_id: workflow.id, variables: input },
      });
      await this.audit.record({
        tenantId,
        eventType: 'pipeline.started',
        resourceType: 'pipeline_run',
        resourceId: run.id,
        details: {
          pipeline_id: pipelineId,
          template: template.key,
          trigger_by: input.trigger_by,
          date: input.date,
        },
      });
      return {
        pipeline_logging_id: run.id,
        pipeline_id: pipelineId,
        tenant_id: tenantId,
        status: 'PENDING' as const,
        message: `Pipeline ${template.key} started`,
      };
    });
  }

  async get(tenantId: string, id: string): Promise<PipelineRunResponse> {
    const row = await this.repository.find(tenantId, id);
    if (!row || row.trigger_type === 'dryrun') throw new PipelineRunNotFoundException(id);
    return toResponse(tenantId, row);
  }

  async list(tenantId: string, query: PipelineRunsQuery): Promise<PipelineRunResponse[]> {
    const rows = await this.repository.list(tenantId, query, query.limit);
    return rows.map((row) => toResponse(tenantId, row));
  }

  /** The run's input: the template's defaults, the body's variables, and the built-ins (which a body may not set). */
  private inputOf(
    template: PipelineTemplate,
    body: Record<string, unknown>,
    run: { tenantId: string; pipelineId: string; principal: Principal },
  ): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ValidationFailedException(HttpStatus.UNPROCESSABLE_ENTITY, 'the body must be a JSON object', {
        errors: ['body: must be an object of variables'],
      });
    const { trigger_by, date, ...variables } = body;
    const input: Record<string, unknown> = {
      ...Object.fromEntries(
        template.variables.filter((v) => v.default !== undefined).map((v) => [v.name, v.default]),
      ),
      ...variables,
      tenant_id: run.tenantId,
      pipeline_id: run.pipelineId,
      date: date ?? new Date().toISOString().slice(0, 10),
      trigger_by:
        trigger_by ?? run.principal.user_id ?? `${run.principal.via}:${run.principal.tenant_id ?? 'admin'}`,
    };
    for (const name of ['tenant_id', 'pipeline_id'])
      if (name in variables)
        throw new ValidationFailedException(
          HttpStatus.BAD_REQUEST,
          `'${name}' is set by Conflux, not the request`,
          {
            fields: [{ field: name, constraints: { forbidden: `${name} comes from the path` } }],
          },
        );
    const errors = inputErrors(template.inputSchema, input);
    if (errors.length > 0)
      throw new ValidationFailedException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `the variables do not match template ${template.key}`,
        { errors },
      );
    return input;
  }
}

function toResponse(tenantId: string, row: PipelineRunRow): PipelineRunResponse {
  return {
    pipeline_logging_id: row.pipeline_logging_id,
    pipeline_id: row.pipeline_id,
    tenant_id: tenantId,
    status: row.status,
    trigger_type: row.trigger_type,
    trigger_by: row.trigger_by,
    start_time: row.start_time.toISOString(),
    end_time: row.end_time?.toISOString() ?? null,
    duration_ms: row.duration_ms,
    error: row.error,
    details: row.details,
  };
}

function secondsToUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}
