import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { JSON_VALUE_SCHEMA } from '../../../core/http/api-json';
import { DataColumn } from '../../data/dto/data.dto';

export const MAX_QUESTION_LENGTH = 2000;
export const DEFAULT_SUGGESTIONS = 10;

export class SqlSuggestDto {
  /** What the suggestions are for, in words ("cost by region") or the SQL in the editor; ranks and steers them. */
  @ApiPropertyOptional({ example: 'cost by region' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_QUESTION_LENGTH)
  context?: string;

  /** Only suggestions reading this table of the tenant's schema (404 TABLE_NOT_FOUND when it has none such). */
  @ApiPropertyOptional({ example: 'focus_billing' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(63)
  table?: string;

  /** Suggestions to return at most: 1..50, default 10. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 50, default: DEFAULT_SUGGESTIONS })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export class SqlSuggestion {
  /** One SELECT that `POST /data/query` runs as is: checked by the sandbox's guard and an EXPLAIN as the tenant role. */
  sql: string;
  title: string;
  /** One line: what it computes and which columns it uses. */
  explanation: string;
  /** The tenant tables it reads. */
  tables: string[];
}

export class SqlSuggestResponse {
  suggestions: SqlSuggestion[];
  /** `llm` when the configured model's suggestions answered, `builtin` when the built-in suggester did. */
  @ApiProperty({ enum: ['builtin', 'llm'] })
  source: 'builtin' | 'llm';
  /** Why the built-in suggester answered although a model is configured (a timeout, an HTTP error, no valid SQL). */
  warning?: string;
}

export class AiQueryDto {
  /** A question about the tenant's data in plain words. */
  @ApiProperty({ example: 'top 5 services by cost last month' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_QUESTION_LENGTH)
  question: string;

  /** Also run the SQL through the sandbox (as `POST /data/query` would, audited as `data.query`) and return its rows. */
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  execute?: boolean;

  /** With `execute`: rows to return at most, as `/data/query`'s `limit` (default 1000, at most DATA_MAX_ROWS). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 10_000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

export class AiQueryResponse {
  /** One SELECT answering the question, valid for `POST /data/query`. */
  sql: string;
  /** One line: what it computes and which columns the question's words were matched to. */
  explanation: string;
  @ApiProperty({ enum: ['builtin', 'llm'] })
  source: 'builtin' | 'llm';
  /** The tenant tables it reads. */
  tables: string[];
  /** Why the built-in answer was given although a model is configured, or that nothing in the question matched. */
  warning?: string;
  /** With `execute`: the result's columns, as `/data/query` answers them. */
  columns?: DataColumn[];
  /** With `execute`: the rows, as `/data/query` answers them. */
  @ApiPropertyOptional({ type: 'array', items: { type: 'array', items: JSON_VALUE_SCHEMA } })
  rows?: unknown[][];
  row_count?: number;
  truncated?: boolean;
}
