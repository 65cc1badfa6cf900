import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { TenantPageQuery } from '../../../core/tenancy/tenant-query.dto';
import type { JobStatus } from '../documents.repository';
import { ExtractionSettingsDto } from './configuration.dto';

const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

export class CreateJobDto {
  /** The document to extract (CSV, TSV, XLSX or JSON). */
  @IsUUID()
  document_id: string;

  /** Extraction settings to use (their current version, recorded on the job); default: automatic. */
  @IsOptional()
  @IsUUID()
  configuration_id?: string;
}

export class JobsQuery extends TenantPageQuery {
  @IsOptional()
  @IsUUID()
  document_id?: string;

  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;
}

export class JobWarning {
  table: string;
  message: string;
}

export class JobResponse {
  id: string;
  tenant_id: string;
  document_id: string;
  configuration_id: string | null;
  /** The configuration version the job used. */
  @ApiProperty({ type: 'integer', nullable: true })
  configuration_version: number | null;
  /** The settings the job ran with. */
  settings: ExtractionSettingsDto;
  @ApiProperty({ enum: JOB_STATUSES })
  status: JobStatus;
  /** Why it failed (with the line, row or element at fault when there is one). */
  error: string | null;
  /** Ragged rows and other things the job worked around. */
  warnings: JobWarning[];
  /** Rows loaded, over every table. */
  @ApiProperty({ type: 'integer', nullable: true })
  rows: number | null;
  /** Times a worker started it (more than 1 after a worker died mid-job). */
  @ApiProperty({ type: 'integer' })
  attempts: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export class JobPage {
  items: JobResponse[];
  @ApiProperty({ type: 'integer' })
  total: number;
}
