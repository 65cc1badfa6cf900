import { HttpStatus, Injectable } from '@nestjs/common';
import { ValidationFailedException } from '../../core/http/app.exception';
import { Transactions } from '../../core/database/transaction';
import type { Page } from '../../core/http/pagination';
import { AuditService } from '../audit/audit.service';
import type {
  CreateWorkflowDto,
  UpdateWorkflowDto,
  ValidationResponse,
  WorkflowResponse,
} from './dto/workflow.dto';
import type { WorkflowEntity, WorkflowStatus } from './entities/workflow.entity';
import { inputErrors, validateWorkflow } from './workflow-validator';
import {
  WorkflowInvalidException,
  WorkflowNotDeletableException,
  WorkflowNotFoundException,
  WorkflowNotRunnableException,
  WorkflowPublishedException,
} from './workflows.exceptions';
import { WorkflowsRepository } from './workflows.repository';

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repository: WorkflowsRepository,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {}

  create(tenantId: string, input: CreateWorkflowDto): Promise<WorkflowResponse> {
    return this.tx.run(async () => {
      const row = await this.repository.insert({
        tenant_id: tenantId,
        name: input.name,
        description: input.description ?? '',
        version: 1,
        status: 'draft',
        definition: input.definition ?? { nodes: [], edges: [] },
        input_schema: input.input_schema ?? null,
      });
      await this.record(row, 'workflow.created');
      return toWorkflowResponse(row);
    });
  }

  async list(
    tenantId: string,
    status: WorkflowStatus | undefined,
    offset: number,
    limit: number,
  ): Promise<Page<WorkflowResponse>> {
    const [rows, total] = await this.repository.list(tenantId, status, offset, limit);
    return { items: rows.map(toWorkflowResponse), total };
  }

  async get(tenantId: string, id: string): Promise<WorkflowResponse> {
    return toWorkflowResponse(await this.require(tenantId, id));
  }

  /** The published workflow itself (for the engine and triggers); 404 for unknown or foreign ids. */
  require(tenantId: string, id: string): Promise<WorkflowEntity> {
    return this.repository.findById(tenantId, id).then((row) => {
      if (!row) throw new WorkflowNotFoundException(id);
      return row;
    });
  }

  /**
   * A workflow that may start runs: published (409 otherwise) and, when `input` is given, an input that satisfies
   * its input_schema (422 with the problems otherwise).
   */
  async requireRunnable(tenantId: string, id: string, input?: unknown): Promise<WorkflowEntity> {
    const workflow = await this.require(tenantId, id);
    if (workflow.status !== 'published') throw new WorkflowNotRunnableException(id, workflow.status);
    const errors = input === undefined ? [] : inputErrors(workflow.input_schema, input);
    if (errors.length > 0) {
      throw new ValidationFailedException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `input does not match the workflow's input_schema`,
        { errors },
      );
    }
    return workflow;
  }

  update(tenantId: string, id: string, input: UpdateWorkflowDto): Promise<WorkflowResponse> {
    return this.tx.run(async () => {
      const updated = await this.repository.updateDraft(tenantId, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.definition !== undefined ? { definition: input.definition } : {}),
        ...(input.input_schema !== undefined ? { input_schema: input.input_schema } : {}),
      });
      if (!updated) {
        const current = await this.require(tenantId, id);
        throw new WorkflowPublishedException(id, current.status);
      }
      await this.record(updated, 'workflow.updated', { changed: Object.keys(input) });
      return toWorkflowResponse(updated);
    });
  }

  remove(tenantId: string, id: string): Promise<void> {
    return this.tx.run(async () => {
      if (!(await this.repository.deleteDraft(tenantId, id))) {
        const current = await this.require(tenantId, id);
        throw new WorkflowNotDeletableException(id, current.status);
      }
      await this.audit.record({
        tenantId,
        eventType: 'workflow.deleted',
        resourceType: 'workflow',
        resourceId: id,
      });
    });
  }

  async validate(tenantId: string, id: string): Promise<ValidationResponse> {
    const errors = await this.problems(await this.require(tenantId, id));
    return { valid: errors.length === 0, errors };
  }

  /** Validates, then freezes the definition: published workflows never change again. */
  publish(tenantId: string, id: string): Promise<WorkflowResponse> {
    return this.tx.run(async () => {
      const current = await this.require(tenantId, id);
      if (current.status !== 'draft') throw new WorkflowPublishedException(id, current.status);
      const errors = await this.problems(current);
      if (errors.length > 0) throw new WorkflowInvalidException(errors);
      const published = await this.repository.publishDraft(tenantId, id);
      if (!published) throw new WorkflowPublishedException(id, 'published');
      await this.record(published, 'workflow.published');
      return toWorkflowResponse(published);
    });
  }

  /** A new draft of the same family at the next version, with the same definition. */
  duplicate(tenantId: string, id: string): Promise<WorkflowResponse> {
    return this.tx.run(async () => {
      const source = await this.require(tenantId, id);
      const version = await this.repository.lockNextVersion(source.family_id);
      const copy = await this.repository.insert({
        tenant_id: tenantId,
        family_id: source.family_id,
        name: source.name,
        description: source.description,
        version,
        status: 'draft',
        definition: source.definition,
        input_schema: source.input_schema,
      });
      await this.record(copy, 'workflow.duplicated', {
        source_id: source.id,
        source_version: source.version,
      });
      return toWorkflowResponse(copy);
    });
  }

  private problems(workflow: WorkflowEntity): Promise<string[]> {
    return validateWorkflow(workflow.definition, workflow.input_schema, {
      workflowId: workflow.id,
      lookupWorkflow: (id) => this.repository.statusOf(workflow.tenant_id, id),
    });
  }

  private async record(
    row: WorkflowEntity,
    eventType: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record({
      tenantId: row.tenant_id,
      eventType,
      resourceType: 'workflow',
      resourceId: row.id,
      details: { name: row.name, version: row.version, status: row.status, ...details },
    });
  }
}

export function toWorkflowResponse(row: WorkflowEntity): WorkflowResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    description: row.description,
    version: row.version,
    status: row.status,
    definition: row.definition,
    input_schema: row.input_schema,
    published_at: row.published_at ? new Date(row.published_at).toISOString() : null,
    package_digest: row.package_digest,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
