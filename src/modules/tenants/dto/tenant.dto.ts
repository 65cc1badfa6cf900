import {
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { TENANT_ID_PATTERN } from '../../../core/auth/principal';

export const PLANS = ['STARTER', 'PROFESSIONAL', 'SCALE'] as const;
export type PlanCode = (typeof PLANS)[number];

export class OnboardTenantDto {
  /** `^[a-zA-Z0-9_]{3,50}$` */
  @IsString()
  @Matches(TENANT_ID_PATTERN, { message: `tenant_id must match ${TENANT_ID_PATTERN.source}` })
  tenant_id: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  company_name: string;

  /** Becomes the tenant's owner user. */
  @IsEmail()
  admin_email: string;

  @IsIn(PLANS)
  subscription_plan: PlanCode;

  /** The owner's password; when omitted one is generated and returned once as `admin_password`. */
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  admin_password?: string;
}

export class OnboardTenantResponse {
  tenant_id: string;
  /** The owner-role API key: shown only here. */
  api_key: string;
  subscription_plan: PlanCode;
  dataset_created: boolean;
  tables_created: string[];
  /** SUCCESS when a dry-run pipeline was written and read back through the tenant's restricted role. */
  dryrun_status: 'SUCCESS';
  message: string;
  owner_user_id: string;
  /** Only when the request did not set one: the owner's generated password, shown once. */
  admin_password?: string;
}

export class TenantResponse {
  id: string;
  name: string;
  state: 'active' | 'suspended';
  config: Record<string, unknown>;
  config_version: number;
  subscription_plan: string;
  created_at: string;
}

export class TenantPage {
  items: TenantResponse[];
  total: number;
}

export class UpdateTenantDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  /** Replaces the config; needs `config_version`, the version it was made against (409 if stale). */
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @IsOptional()
  @IsInt()
  @Min(1)
  config_version?: number;

  /** Platform admins only. */
  @IsOptional()
  @IsIn(['active', 'suspended'])
  state?: 'active' | 'suspended';

  /** Platform admins only. */
  @IsOptional()
  @IsIn(PLANS)
  subscription_plan?: PlanCode;
}

export class QuotaFigures {
  daily_pipelines: number;
  concurrent_pipelines: number;
  team_members: number;
  providers: number;
  /** Open top-level workflow runs; as a limit, null when the plan has no cap (runs past it are held pending). */
  concurrent_runs: number | null;
}

export class QuotaResponse {
  tenant_id: string;
  subscription_plan: string;
  limits: QuotaFigures;
  usage: QuotaFigures;
  /** When the daily figures reset: the next midnight UTC. */
  resets_at: string;
}
