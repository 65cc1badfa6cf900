import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { PageSize } from '../../../core/http/pagination';
import { TenantScopedQuery } from '../../../core/tenancy/tenant-query.dto';

export const PIPELINE_STATUSES = ['PENDING', 'RUNNING', 'COMPLETE', 'FAILED'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export class TemplateVariableResponse {
  name: string;
  @ApiProperty({ enum: ['string', 'number', 'integer', 'boolean'] })
  type: string;
  description: string;
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] })
  default?: string | number | boolean;
  @ApiPropertyOptional({ type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'number' }] } })
  enum?: Array<string | number>;
}

export class PipelineTemplateResponse {
  provider: string;
  domain: string;
  template: string;
  description: string;
  /** Declared variables; `tenant_id`, `pipeline_id`, `date` and `trigger_by` are always set. */
  variables: TemplateVariableResponse[];
  /** The workflow the template installs in the tenant's workspace (`pipeline: <provider>/<domain>/<template>`). */
  @ApiProperty({ type: 'array', items: { type: 'string' } })
  steps: string[];
}

export class RunPipelineResponse {
  /** The run's id (also the engine run's id: `GET /runs/{id}`, `WS /ws/runs/{id}`). */
  pipeline_logging_id: string;
  /** `<tenant>-<provider>-<domain>-<template>` */
  pipeline_id: string;
  tenant_id: string;
  @ApiProperty({ enum: ['PENDING'] })
  status: 'PENDING';
  message: string;
}

export class PipelineRunResponse {
  pipeline_logging_id: string;
  pipeline_id: string;
  tenant_id: string;
  @ApiProperty({ enum: PIPELINE_STATUSES })
  status: PipelineStatus;
  trigger_type: string;
  trigger_by: string | null;
  start_time: string;
  end_time: string | null;
  @ApiProperty({ type: 'integer', nullable: true })
  duration_ms: number | null;
  /** Why it failed. */
  error: string | null;
  /** The run date, the template and the variables it ran with. */
  details: Record<string, unknown>;
}

export class PipelineRunsQuery extends TenantScopedQuery {
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_]{3,50}-[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+$/, {
    message: 'pipeline_id must be <tenant>-<provider>-<domain>-<template>',
  })
  pipeline_id?: string;

  @ApiPropertyOptional({ enum: PIPELINE_STATUSES })
  @IsOptional()
  @IsIn(PIPELINE_STATUSES)
  status?: PipelineStatus;

  @PageSize()
  limit: number = 20;
}
