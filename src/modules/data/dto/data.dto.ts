import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { JSON_VALUE_SCHEMA } from '../../../core/http/api-json';

export const MAX_SQL_LENGTH = 100_000;
export const MAX_PARAMS = 100;

export class DataQueryDto {
  /**
   * One read-only statement: a SELECT (WITH, VALUES, TABLE and set operations included) or EXPLAIN of one.
   * Unqualified names resolve in the tenant's schema, then pg_catalog. `$1`, `$2`, ... refer to `params`.
   */
  @ApiProperty({
    example:
      'SELECT r.pipeline_id, count(*) AS steps FROM tenant_pipeline_runs r JOIN tenant_step_logs s USING (pipeline_logging_id) WHERE r.status = $1 GROUP BY 1',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SQL_LENGTH)
  sql: string;

  /** Values of `$1`, `$2`, ...: strings, numbers, booleans, null; arrays go as Postgres arrays, objects as JSON. */
  @ApiPropertyOptional({
    type: 'array',
    items: JSON_VALUE_SCHEMA,
    maxItems: MAX_PARAMS,
    example: ['COMPLETE'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PARAMS)
  params?: unknown[];

  /** Rows to return at most: default 1000 (`DATA_DEFAULT_ROWS`), at most 10000 (`DATA_MAX_ROWS`; more is 400). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 10_000, default: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

export class DataColumn {
  name: string;
  /** The Postgres type, as `format_type` names it (`integer`, `text`, `numeric(12,2)`, `timestamp with time zone`). */
  type: string;
}

export class DataQueryResponse {
  columns: DataColumn[];

  /**
   * One array per row, values in column order. bigint is a number while it is a safe integer (else a string);
   * numeric and money are strings (exact); timestamps ISO-8601 (UTC); date, time and interval as Postgres writes
   * them; json and jsonb as JSON; bytea as `\x` hex.
   */
  @ApiProperty({ type: 'array', items: { type: 'array', items: JSON_VALUE_SCHEMA }, example: [[1]] })
  rows: unknown[][];

  row_count: number;

  /** True when rows were cut at `limit` or at the byte cap (`DATA_MAX_RESULT_BYTES`, 5 MB by default). */
  truncated: boolean;

  /** From parsing the statement to its last row read. */
  duration_ms: number;
}

export class DataTableColumn {
  name: string;
  /** The Postgres type (`format_type`). */
  type: string;
  nullable: boolean;
}

export class DataTableResponse {
  name: string;
  @ApiProperty({ enum: ['table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table'] })
  kind: 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table';
  /**
   * Postgres's estimate (`pg_class.reltuples`, as of the last ANALYZE); a table never analyzed is counted, up to
   * 100000; null for views.
   */
  @ApiProperty({ type: 'integer', nullable: true })
  row_estimate: number | null;
  columns: DataTableColumn[];
}

export class DataTablesResponse {
  /** The tenant's schema (`tenant_<tenant id>`): what unqualified names in `/data/query` resolve to. */
  schema: string;
  items: DataTableResponse[];
  total: number;
}
