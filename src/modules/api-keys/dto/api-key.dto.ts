import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { TENANT_ROLES, type TenantRole } from '../../../core/auth/principal';

export class CreateApiKeyDto {
  /** What the key is for, e.g. `ci-deploy`. */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  /** The role the key acts with (default `member`). */
  @IsOptional()
  @IsIn(TENANT_ROLES)
  role?: TenantRole;
}

export class ApiKeyResponse {
  id: string;
  name: string;
  role: TenantRole;
  /** The key's public lookup prefix, e.g. `cfx_Ab3dE6gH`. */
  prefix: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export class CreatedApiKeyResponse {
  id: string;
  name: string;
  role: TenantRole;
  prefix: string;
  /** The key itself: shown only in this response, stored only as a hash. */
  api_key: string;
  created_at: string;
}

export class ApiKeyPage {
  items: ApiKeyResponse[];
  total: number;
}
