import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const MAX_QUERY_LENGTH = 10_000;
const TIME_SCHEMA: ApiPropertyOptions = { oneOf: [{ type: 'number' }, { type: 'string' }] };
const asString = ({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value);

export class MetricsQueryDto {
  /** PromQL. Without PROM_URL, the local fallback's subset (see docs/observability.md). */
  @ApiProperty({ example: 'sum by (status) (conflux_runs_finished_total)' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_QUERY_LENGTH)
  query: string;

  /** Evaluation time of an instant query: unix seconds or RFC 3339; default now. */
  @ApiPropertyOptional({ ...TIME_SCHEMA, example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @Transform(asString)
  @IsString()
  time?: string;

  /** Start of a range query (with `end` and `step`): unix seconds or RFC 3339. */
  @ApiPropertyOptional(TIME_SCHEMA)
  @IsOptional()
  @Transform(asString)
  @IsString()
  start?: string;

  /** End of a range query: unix seconds or RFC 3339. */
  @ApiPropertyOptional(TIME_SCHEMA)
  @IsOptional()
  @Transform(asString)
  @IsString()
  end?: string;

  /** Resolution of a range query: seconds (`15`) or a duration (`15s`, `1m`). */
  @ApiPropertyOptional({ ...TIME_SCHEMA, example: '15s' })
  @IsOptional()
  @Transform(asString)
  @IsString()
  step?: string;
}

/** Prometheus's HTTP API answer, as `/api/v1/query` and `/api/v1/query_range` give it. */
export class MetricsQueryResponse {
  @ApiProperty({ enum: ['success'] })
  status: 'success';

  /** `{resultType: "vector", result: [{metric, value: [t, "v"]}]}` or `{resultType: "matrix", result: [{metric, values}]}`. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  data: { resultType: string; result: unknown[] };
}
