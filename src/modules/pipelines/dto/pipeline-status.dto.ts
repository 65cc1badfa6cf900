import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

export const PIPELINE_MODES = ['online', 'offline', 'dual'] as const;
export type PipelineMode = (typeof PIPELINE_MODES)[number];

export class UpdatePipelineConfigDto {
  @ApiPropertyOptional({ enum: PIPELINE_MODES })
  @IsOptional()
  @IsIn(PIPELINE_MODES)
  mode?: PipelineMode;

  /** Thousands of rows per INSERT of `pipeline.load` (1..256). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  batch_size?: number;

  /** The normalisation model the dashboard shows (a label, 1..100 characters). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  model?: string;
}

export class PipelineNodeResponse {
  /** `ingest`, `extract`, `normalise`, `load`, `dq` */
  id: string;
  /** `down` (no worker consumes the stage's queue), `degraded` (over half of its recent attempts failed, or a backlog of more than 100 per worker), `healthy` (it ran in the window), `idle` */
  @ApiProperty({ enum: ['healthy', 'idle', 'degraded', 'down'] })
  status: 'healthy' | 'idle' | 'degraded' | 'down';
  /** Over the last 5 minutes: `rows`, `rows_per_second`, `attempts`, `failures`, `failure_ratio`, `avg_ms`; now: `backlog`, `workers` (and `documents`, `bytes` for ingest). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  metrics: Record<string, number>;
}

export class PipelineStatusResponse {
  @ApiProperty({ enum: PIPELINE_MODES })
  mode: PipelineMode;
  @ApiProperty({ type: 'integer' })
  batch_size: number;
  model: string;
  /** The settings' version: each PATCH /config adds one. */
  @ApiProperty({ type: 'integer' })
  version: number;
  /** Rows per second through the pipeline loads and document extractions over the last 5 minutes. */
  throughput: number;
  /** The window the metrics cover. */
  @ApiProperty({ type: 'integer' })
  window_seconds: number;
  nodes: PipelineNodeResponse[];
}
