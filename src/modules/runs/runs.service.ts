import { isUUID } from 'class-validator';
import { Injectable } from '@nestjs/common';
import { NotFoundAppException } from '../../core/http/app.exception';
import type { TenantId } from '../../core/tenancy/tenant-id';
import type { Page } from '../../core/http/pagination';
import { EngineService } from '../engine/engine.service';
import { PoliciesService } from '../policies/policies.service';
import { toWorkflowResponse, WorkflowsService } from '../workflows/workflows.service';
import type { RunEventResponse, RunResponse, StepRunResponse } from './dto/run.dto';
import type { RunEntity } from '../engine/persistence/entities/run.entity';
import type { StepStatus } from '../engine/persistence/entities/step-run.entity';
import { type RunActivity, type RunFilter, RunReads } from '../engine/persistence/run-reads';

export interface RunSnapshot {
  run: RunResponse;
  step_statuses: Record<string, StepStatus>;
  last_seq: number;
}

export class RunNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('run', id, 'RUN_NOT_FOUND');
  }
}

@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunReads,
    private readonly engine: EngineService,
    private readonly workflows: WorkflowsService,
    private readonly policies: PoliciesService,
  ) {}

  /** Published workflows only; the input must satisfy input_schema. `created` false: the key's earlier run. */
  async start(
    tenantId: TenantId,
    workflowId: string,
    input: unknown,
    triggerType: string,
    idempotencyKey?: string,
  ) {
    const workflow = await this.workflows.requireRunnable(tenantId, workflowId, input ?? {});
    await this.policies.assert('run', 'Workflow', toWorkflowResponse(workflow));
    const { run, created } = await this.engine.start({
      tenantId,
      workflow,
      input: input ?? {},
      triggerType,
      idempotencyKey,
    });
    return { run: toRunResponse(run), created };
  }

  async list(
    tenantId: TenantId,
    filter: RunFilter,
    offset: number,
    limit: number,
  ): Promise<Page<RunResponse>> {
    const [rows, total] = await this.runs.listRuns(tenantId, filter, offset, limit);
    return { items: rows.map(toRunResponse), total };
  }

  async get(tenantId: TenantId, id: string): Promise<RunResponse> {
    const run = toRunResponse(await this.require(tenantId, id));
    await this.policies.assert('read', 'Run', run);
    return run;
  }

  async steps(tenantId: TenantId, id: string): Promise<StepRunResponse[]> {
    await this.policies.assert('read', 'Run', toRunResponse(await this.require(tenantId, id)));
    return (await this.runs.stepsOf(tenantId, id)).map((s) => ({
      id: s.id,
      run_id: s.run_id,
      step_id: s.step_id,
      type: s.type,
      status: s.status,
      attempt: s.attempt,
      output: s.output ?? null,
      error: s.error,
      started_at: iso(s.started_at),
      finished_at: iso(s.finished_at),
    }));
  }

  async events(tenantId: TenantId, id: string, afterSeq: number, limit: number): Promise<RunEventResponse[]> {
    await this.policies.assert('read', 'Run', toRunResponse(await this.require(tenantId, id)));
    return (await this.runs.events(tenantId, id, afterSeq, limit)).map((e) => ({
      seq: e.seq,
      event_type: e.event_type,
      step_id: e.step_id,
      data: e.data,
      timestamp: new Date(e.timestamp).toISOString(),
    }));
  }

  /** The run, its steps' statuses and its last event's seq, consistent with one another. */
  async snapshot(tenantId: TenantId, id: string): Promise<RunSnapshot> {
    const row = await this.runs.snapshot(tenantId, id);
    if (!row) throw new RunNotFoundException(id);
    return { run: toRunResponse(row.run), step_statuses: row.step_statuses, last_seq: row.last_seq };
  }

  /** Whose run this is (any tenant's), for a handshake that must answer 'not yours' apart from 'no such run'. */
  async ownerOf(id: string): Promise<TenantId | undefined> {
    return isUUID(id) ? this.runs.ownerOf(id) : undefined;
  }

  activity(tenantIds: TenantId[], windowSeconds: number): Promise<RunActivity[]> {
    return this.runs.activity(tenantIds, windowSeconds);
  }

  async resume(tenantId: TenantId, id: string, stepId: string, data: unknown): Promise<RunResponse> {
    await this.policies.assert('update', 'Run', toRunResponse(await this.require(tenantId, id)));
    await this.engine.resume(tenantId, id, stepId, data);
    return this.get(tenantId, id);
  }

  async cancel(tenantId: TenantId, id: string): Promise<RunResponse> {
    await this.policies.assert('update', 'Run', toRunResponse(await this.require(tenantId, id)));
    await this.engine.cancel(tenantId, id);
    return this.get(tenantId, id);
  }

  async retry(tenantId: TenantId, id: string): Promise<RunResponse> {
    await this.policies.assert('update', 'Run', toRunResponse(await this.require(tenantId, id)));
    await this.engine.retry(tenantId, id);
    return this.get(tenantId, id);
  }

  private async require(tenantId: TenantId, id: string): Promise<RunEntity> {
    const run = await this.runs.findRun(tenantId, id);
    if (!run) throw new RunNotFoundException(id);
    return run;
  }
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

export function toRunResponse(run: RunEntity): RunResponse {
  return {
    id: run.id,
    workflow_id: run.workflow_id,
    workflow_version: run.workflow_version,
    status: run.status,
    trigger_type: run.trigger_type,
    input: run.input,
    context: run.context,
    error: run.error,
    parent_run_id: run.parent_run_id,
    started_at: iso(run.started_at),
    completed_at: iso(run.completed_at),
    created_at: new Date(run.created_at).toISOString(),
  };
}
