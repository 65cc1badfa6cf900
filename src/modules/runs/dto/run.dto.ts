import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { TenantPageQuery, TenantScopedQuery } from '../../../core/tenancy/tenant-query.dto';
import type { RunStatus } from '../entities/run.entity';
import type { StepStatus } from '../entities/step-run.entity';

export class StartRunDto {
  /** The run input; checked against the workflow's input_schema (422 when it does not conform). */
  @ApiPropertyOptional({ description: 'Run input', example: { order_id: 'A-1001' } })
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

  /** Page size (1..100, default 20); same as `limit`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  per_page?: number;
}

export class EventsQuery extends TenantScopedQuery {
  /** Events after this seq (default 0: from the start). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after_seq: number = 0;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 1000;
}

export class ResumeRunDto {
  /** The waiting approval step's node id. */
  @IsString()
  @MaxLength(100)
  step_id: string;

  /** Becomes the approval step's output. */
  @ApiPropertyOptional({ example: { approved: true, by: 'ana' } })
  @IsOptional()
  data?: unknown;
}

export class RunResponse {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: RunStatus;
  /** manual, webhook, schedule, workflow */
  trigger_type: string;
  @ApiProperty({ description: 'Run input' })
  input: unknown;
  @ApiProperty({ description: '{input, steps: {<node id>: {status, output}}}' })
  context: unknown;
  error: string | null;
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
  step_id: string;
  type: string;
  status: StepStatus;
  attempt: number;
  @ApiProperty({ description: 'What later steps see at steps.<node id>.output' })
  output: unknown;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export class RunEventResponse {
  seq: number;
  event_type: string;
  step_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  data: Record<string, unknown>;
  timestamp: string;
}
