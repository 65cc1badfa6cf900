import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { TenantPageQuery } from '../../../core/tenancy/tenant-query.dto';
import type { WorkflowDefinition, WorkflowStatus } from '../entities/workflow.entity';
import { IsWorkflowDefinition, MaxNodes, WorkflowDefinitionSchema } from './definition.schema';

/** A realistic definition, shown in Swagger: fetch an order, branch on its total, ask for approval. */
export const EXAMPLE_DEFINITION: WorkflowDefinition = {
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { label: 'Start', config: {} } },
    {
      id: 'fetch',
      type: 'http.request',
      position: { x: 0, y: 120 },
      data: {
        label: 'Fetch order',
        config: { method: 'GET', url: 'https://api.example.com/orders/{{ input.order_id }}' },
        retry: { max_attempts: 3, backoff_ms: 500 },
        timeout_ms: 10000,
      },
    },
    {
      id: 'big',
      type: 'condition',
      position: { x: 0, y: 240 },
      data: { config: { expression: 'steps.fetch.output.body.total > 1000' } },
    },
    {
      id: 'approve',
      type: 'approval',
      position: { x: -150, y: 360 },
      data: { config: { timeout_ms: 86400000, on_timeout: 'reject' } },
    },
    {
      id: 'summary',
      type: 'transform',
      position: { x: 150, y: 360 },
      data: { config: { expression: '{"order": input.order_id, "total": steps.fetch.output.body.total}' } },
    },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'fetch' },
    { id: 'e2', source: 'fetch', target: 'big' },
    { id: 'e3', source: 'big', target: 'approve', sourceHandle: 'true' },
    { id: 'e4', source: 'big', target: 'summary', sourceHandle: 'false' },
  ],
};

const definitionProperty = {
  type: WorkflowDefinitionSchema,
  description: 'A React Flow graph; node `type`s come from GET /catalog/steps.',
  example: EXAMPLE_DEFINITION,
};

export class CreateWorkflowDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;

  @ApiProperty({ ...definitionProperty, required: false })
  @IsOptional()
  @IsWorkflowDefinition()
  @MaxNodes()
  definition?: WorkflowDefinition;

  /** JSON Schema that run input must satisfy; null (or none) accepts any input. */
  @ApiPropertyOptional({
    example: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'string' } } },
  })
  @IsOptional()
  @IsObject()
  input_schema?: Record<string, unknown> | null;

  /** Labels access policies can match on (`prod`, `finance`): up to 20, each 1..50 characters. */
  @ApiPropertyOptional({ example: ['prod'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(/^[\w.:-]{1,50}$/, { each: true, message: 'each tag must be 1..50 of letters, digits, _ . : -' })
  tags?: string[];
}

/** Saves a draft; every field is optional and replaces the stored one (`input_schema: null` removes it). */
export class UpdateWorkflowDto extends PartialType(CreateWorkflowDto) {}

export class WorkflowsQuery extends TenantPageQuery {
  @IsOptional()
  @IsIn(['draft', 'published', 'archived'])
  status?: WorkflowStatus;
}

export class WorkflowResponse {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  version: number;
  status: WorkflowStatus;
  @ApiProperty(definitionProperty)
  definition: WorkflowDefinition;
  input_schema: Record<string, unknown> | null;
  tags: string[];
  published_at: string | null;
  /** SHA-256 of the signed package the workflow was deployed from, if any. */
  package_sha256: string | null;
  /** The earlier name of `package_sha256` (the same value). */
  package_digest: string | null;
  /** Name and version of that package. */
  package_name: string | null;
  package_version: string | null;
  /** The workflow's key in the package. */
  package_key: string | null;
  created_at: string;
  updated_at: string;
}

export class WorkflowPage {
  items: WorkflowResponse[];
  total: number;
}

export class ValidationResponse {
  valid: boolean;
  /** Every problem, each naming its node or edge. */
  errors: string[];
}

export class StepTypeResponse {
  type: string;
  name: string;
  category: string;
  description: string;
  /** JSON Schema of data.config */
  config_schema: Record<string, unknown>;
  /** What later steps see at steps.<node id>.output */
  outputs: Record<string, unknown>;
  /** False while the step type cannot run yet; `unavailable_reason` says why. */
  available: boolean;
  unavailable_reason?: string;
}
