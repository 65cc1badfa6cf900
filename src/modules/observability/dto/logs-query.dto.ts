import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { MAX_QUERY_LENGTH } from './metrics-query.dto';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class LogsQueryDto {
  /** With LOKI_URL: LogQL (default `{service="conflux"}`). Without: text every returned line contains (case-insensitive). */
  @ApiPropertyOptional({ example: 'run finished' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_QUERY_LENGTH)
  query?: string;

  /** The least level returned (`warn` returns warn, error and fatal). */
  @ApiPropertyOptional({ enum: LOG_LEVELS })
  @IsOptional()
  @IsIn(LOG_LEVELS)
  level?: LogLevel;

  /** Lines at or after this time (ISO 8601); default: one hour ago. */
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601()
  since?: string;

  /** Lines at or before this time (ISO 8601); default now. */
  @ApiPropertyOptional()
  @IsOptional()
  @IsISO8601()
  until?: string;

  /** Lines to return at most, newest first. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** Only lines of this request (its `X-Request-ID`), from the API and the workers alike. */
  @ApiPropertyOptional({ example: 'abc' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  request_id?: string;
}

export class LogEntry {
  /** ISO 8601. */
  timestamp: string;
  @ApiProperty({ enum: LOG_LEVELS })
  level: string;
  msg: string;
  @ApiProperty({ type: 'string', nullable: true })
  request_id: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  tenant_id: string | null;
  /** `api` or `worker`, with host and pid: `worker:host:1234`. */
  process: string;
  [field: string]: unknown;
}

export class LogsQueryResponse {
  @ApiProperty({ type: [LogEntry] })
  entries: LogEntry[];
}
