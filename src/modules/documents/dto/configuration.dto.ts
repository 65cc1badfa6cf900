import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { QueryInt } from '../../../core/http/query-int';
import { TenantScopedQuery } from '../../../core/tenancy/tenant-query.dto';
import { COLUMN_TYPES, type ColumnType } from '../extraction/column-types';
import { PARSERS, type Parser } from '../extraction/settings';

const IsColumnTypes = () =>
  ValidateBy({
    name: 'columnTypes',
    validator: {
      validate: (value: unknown) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length <= 1600 &&
        Object.entries(value as Record<string, unknown>).every(
          ([key, type]) =>
            /^[a-z_][a-z0-9_]{0,62}$/.test(key) && (COLUMN_TYPES as readonly unknown[]).includes(type),
        ),
      defaultMessage: () =>
        `column_types must map column names (as sanitised: lower-case letters, digits, _) to one of ${COLUMN_TYPES.join(', ')}`,
    },
  });

export class ExtractionSettingsDto {
  /** `auto` reads the document by its detected type. */
  @ApiPropertyOptional({ enum: PARSERS, default: 'auto' })
  @IsOptional()
  @IsIn(PARSERS)
  parser?: Parser;

  /** CSV/TSV field delimiter, one character (`,` `;` `\t` `|`, ...); default: sniffed. */
  @IsOptional()
  @IsString()
  @Length(1, 1)
  delimiter?: string;

  /** CSV/TSV quote character; default `"`. */
  @IsOptional()
  @IsString()
  @Length(1, 1)
  quote?: string;

  /** Text encoding (`utf-8`, `utf-16le`, `windows-1252`, ...); default: detected. */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  encoding?: string;

  /** Whether the first record (after `skip_rows`) holds the column names; default true. */
  @IsOptional()
  @IsBoolean()
  header_row?: boolean;

  /** XLSX: the one sheet to load, by name; default every sheet (one table each). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  sheet?: string;

  /** Records to skip before the header; default 0. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  skip_rows?: number;

  /** Most data rows per table; more fail the job. */
  @IsOptional()
  @IsInt()
  @Min(1)
  max_rows?: number;

  /** Column name (sanitised, as the table shows it) -> type, replacing the inferred one. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string', enum: [...COLUMN_TYPES] } })
  @IsOptional()
  @IsObject()
  @IsColumnTypes()
  column_types?: Record<string, ColumnType>;
}

export class CreateConfigurationDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @IsObject()
  @ValidateNested()
  @Type(() => ExtractionSettingsDto)
  settings: ExtractionSettingsDto;
}

/** The whole configuration again: it becomes the next version. */
export class UpdateConfigurationDto extends CreateConfigurationDto {}

export class ConfigurationQuery extends TenantScopedQuery {
  @QueryInt({ min: 1, max: 2_147_483_647, description: 'An earlier version (default: the current one)' })
  version?: number;
}

export class ConfigurationResponse {
  id: string;
  tenant_id: string;
  name: string;
  /** 1 when created; each PUT adds one. Earlier versions stay readable with `?version=`. */
  @ApiProperty({ type: 'integer' })
  version: number;
  /** Every setting, defaults filled in. */
  settings: ExtractionSettingsDto;
  created_at: string;
  /** When this version was made. */
  updated_at: string;
}

export class ConfigurationPage {
  items: ConfigurationResponse[];
  @ApiProperty({ type: 'integer' })
  total: number;
}
