import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ApiJsonValue, JSON_VALUE_SCHEMA } from '../../../core/http/api-json';
import { PageSize } from '../../../core/http/pagination';
import { QueryInt } from '../../../core/http/query-int';
import { TenantPageQuery, TenantScopedQuery } from '../../../core/tenancy/tenant-query.dto';
import type { RunStatus } from '../../engine/persistence/entities/run.entity';
import type { StepStatus } from '../../engine/persistence/entities/step-run.entity';

export class StartRunDto {
  /** The run input (default `{}`); checked against the workflow's input_schema (422 when it does not conform). */
  @ApiJsonValue({ required: false, example: { order_id: 'A-1001' } })
  @IsOptional()
  input?: unknown;

  /** Same as the X-Idempotency-Key header: a second start with the key returns the first run (200). */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  idempotency_key?: string;
}

export class RunsQuery extends TenantPageQuery {
  @IsOptional()
  @IsUUID()
  workflow_id?: string;

  @IsOptional()
  @IsIn(['pending', 'running', 'paused', 'completed', 'failed', 'cancelled'])
  status?: RunStatus;

  /** Runs created at or after (ISO-8601). */
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  since?: Date;

  /** Runs created before (ISO-8601). */
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  until?: Date;

  @PageSize('Same as `limit`, which it overrides: 1..100; larger values are clamped to 100.')
  per_page?: number;
}

export class EventsQuery extends TenantScopedQuery {
  // seq is a 32-bit integer column.
  @QueryInt({ min: 0, max: 2_147_483_647, default: 0, description: 'Events after this seq' })
  after_seq: number = 0;

  @QueryInt({ min: 1, max: 1000, default: 1000 })
  limit: number = 1000;
}

export class ResumeRunDto {
  /** The waiting approval step's node id. */
  @IsString()
  @MaxLength(100)
  step_id: string;

  /** Becomes the approval step's output. */
  @ApiJsonValue({ required: false, example: { approved: true, by: 'ana' } })
  @IsOptional()
  data?: unknown;
}

/** What a run has so far: templates and later steps read `input` and `steps.<node id>.output` from it. */
export class RunContextResponse {
  @ApiJsonValue({ description: 'The run input' })
  input: unknown;

  @ApiProperty({
    description: 'Settled steps by node id',
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string' }, output: JSON_VALUE_SCHEMA },
    },
  })
  steps: Record<string, { status: string; output?: unknown }>;
}

export class RunResponse {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: RunStatus;
  /** manual, webhook, schedule, workflow */
  trigger_type: string;
  @ApiJsonValue({ description: 'Run input' })
  input: unknown;
  context: RunContextResponse;
  error: string | null;
  /** The run whose workflow.call step started this one. */
  parent_run_id: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
}

export class RunPage {
  items: RunResponse[];
  total: number;
}

export class StepRunResponse {
  id: string;
  run_id: string;
  /** The node id. */
  step_id: string;
  /** The node's step type. */
  type: string;
  status: StepStatus;
  /** From 1; each retry adds one. */
  attempt: number;
  @ApiJsonValue({ description: 'What later steps see at steps.<node id>.output (null until it completes)' })
  output: unknown;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export class RunEventResponse {
  /** Gap-free per run, from 1. */
  seq: number;
  /**
   * `run.created`, `run.started`, `run.paused`, `run.resumed`, `run.retried`, `run.completed`, `run.failed`,
   * `run.cancelled`, `step.queued`, `step.started`, `step.waiting`, `step.retrying`, `step.completed`,
   * `step.failed`, `step.skipped`, `step.cancelled`
   */
  event_type: string;
  /** The node the event is about, if any. */
  step_id: string | null;
  /** Event details (`attempt`, `output`, `error`, ...) */
  data: Record<string, unknown>;
  timestamp: string;
}
