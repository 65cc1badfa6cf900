import { HttpStatus, Injectable } from '@nestjs/common';
import { ValidationFailedException } from '../../core/http/app.exception';
import { Transactions } from '../../core/database/transaction';
import type { Page } from '../../core/http/pagination';
import { AuditService } from '../audit/audit.service';
import { PoliciesService } from '../policies/policies.service';
import type {
  CreateWorkflowDto,
  UpdateWorkflowDto,
  ValidationResponse,
  WorkflowResponse,
} from './dto/workflow.dto';
import type { WorkflowDefinition, WorkflowEntity, WorkflowStatus } from './entities/workflow.entity';
import { inputErrors, validateWorkflow } from './workflow-validator';
import {
  WorkflowInvalidException,
  WorkflowNotDeletableException,
  WorkflowNotFoundException,
  WorkflowNotRunnableException,
  WorkflowPublishedException,
} from './workflows.exceptions';
import { WorkflowsRepository } from './workflows.repository';

/** One workflow of a package, as its manifest lists it. */
export interface PackagedWorkflow {
  key: string;
  name: string;
  description?: string;
  definition: WorkflowDefinition;
  input_schema?: Record<string, unknown> | null;
}

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repository: WorkflowsRepository,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    private readonly policies: PoliciesService,
  ) {}

  async create(tenantId: string, input: CreateWorkflowDto): Promise<WorkflowResponse> {
    await this.policies.assert('create', 'Workflow', { ...input, tags: input.tags ?? [] });
    return this.tx.run(async () => {
      const row = await this.repository.insert({
        tenant_id: tenantId,
        name: input.name,
        description: input.description ?? '',
        version: 1,
        status: 'draft',
        definition: input.definition ?? { nodes: [], edges: [] },
        input_schema: input.input_schema ?? null,
        tags: input.tags ?? [],
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
    const workflow = toWorkflowResponse(await this.require(tenantId, id));
    await this.policies.assert('read', 'Workflow', workflow);
    return workflow;
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

  async update(tenantId: string, id: string, input: UpdateWorkflowDto): Promise<WorkflowResponse> {
    await this.policies.assert('update', 'Workflow', () => this.current(tenantId, id));
    return this.tx.run(async () => {
      const updated = await this.repository.updateDraft(tenantId, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.definition !== undefined ? { definition: input.definition } : {}),
        ...(input.input_schema !== undefined ? { input_schema: input.input_schema } : {}),
        ...(input.tags !== undefined ? { tags: input.tags } : {}),
      });
      if (!updated) {
        const current = await this.require(tenantId, id);
        throw new WorkflowPublishedException(id, current.status);
      }
      await this.record(updated, 'workflow.updated', { changed: Object.keys(input) });
      return toWorkflowResponse(updated);
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.policies.assert('delete', 'Workflow', () => this.current(tenantId, id));
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
  async publish(tenantId: string, id: string): Promise<WorkflowResponse> {
    await this.policies.assert('publish', 'Workflow', () => this.current(tenantId, id));
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
  async duplicate(tenantId: string, id: string): Promise<WorkflowResponse> {
    await this.policies.assert('create', 'Workflow', () => this.current(tenantId, id));
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
        tags: source.tags,
      });
      await this.record(copy, 'workflow.duplicated', {
        source_id: source.id,
        source_version: source.version,
      });
      return toWorkflowResponse(copy);
    });
  }

  /**
   * Inside the caller's transaction: publishes a package's workflow as the next version of the family its key
   * installed before (version 1 of a new family the first time), recording the package on it. When a version
   * already came from this very package digest, that version is the answer and nothing is written (deploying an
   * artifact again is a no-op, whatever was deployed in between). The caller validates first (problemsOf) and
   * serialises deploys of one package.
   */
  installFromPackage(
    tenantId: string,
    source: { sha256: string; name: string; version: string },
    item: PackagedWorkflow,
  ): Promise<{ workflow: WorkflowResponse; installed: boolean }> {
    return this.tx.run(async () => {
      const same = await this.repository.fromPackage(tenantId, source.name, item.key, source.sha256);
      if (same) return { workflow: toWorkflowResponse(same), installed: false };
      const latest = await this.repository.fromPackage(tenantId, source.name, item.key);
      const row = await this.repository.insert({
        tenant_id: tenantId,
        ...(latest ? { family_id: latest.family_id } : {}),
        name: item.name,
        description: item.description ?? '',
        version: latest ? await this.repository.lockNextVersion(latest.family_id) : 1,
        status: 'published',
        definition: item.definition,
        input_schema: item.input_schema ?? null,
        package_sha256: source.sha256,
        package_name: source.name,
        package_version: source.version,
        package_key: item.key,
      });
      await this.record(row, 'workflow.published', {
        package_name: source.name,
        package_version: source.version,
        package_sha256: source.sha256,
        package_key: item.key,
        ...(latest ? { previous_id: latest.id, previous_version: latest.version } : {}),
      });
      return { workflow: toWorkflowResponse(row), installed: true };
    });
  }

  /** What publishing would refuse in this definition (for definitions not stored yet, as in a package). */
  problemsOf(
    tenantId: string,
    definition: WorkflowDefinition,
    inputSchema: Record<string, unknown> | null,
    workflowId?: string,
  ): Promise<string[]> {
    return validateWorkflow(definition, inputSchema, {
      ...(workflowId ? { workflowId } : {}),
      lookupWorkflow: (id) => this.repository.statusOf(tenantId, id),
    });
  }

  /** The workflow as the API shows it (what policies match on); 404 for unknown or foreign ids. */
  private async current(tenantId: string, id: string): Promise<WorkflowResponse> {
    return toWorkflowResponse(await this.require(tenantId, id));
  }

  private problems(workflow: WorkflowEntity): Promise<string[]> {
    return this.problemsOf(workflow.tenant_id, workflow.definition, workflow.input_schema, workflow.id);
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
    tags: row.tags ?? [],
    published_at: row.published_at ? new Date(row.published_at).toISOString() : null,
    package_sha256: row.package_sha256,
    package_digest: row.package_sha256,
    package_name: row.package_name,
    package_version: row.package_version,
    package_key: row.package_key,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
