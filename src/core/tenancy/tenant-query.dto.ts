import { IsOptional, Matches } from 'class-validator';
import { PageQuery } from '../http/pagination';

/** Platform admins name the tenant they act on; tenant principals may omit it (or name their own). */
export class TenantScopedQuery {
  /** Platform admins: the tenant to act on. */
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_]{3,50}$/)
  tenantId?: string;
}

export class TenantPageQuery extends PageQuery {
  /** Platform admins: the tenant to act on. */
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_]{3,50}$/)
  tenantId?: string;
}
