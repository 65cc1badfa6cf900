import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../../../core/http/pagination';

export class AuditEventsQuery extends PageQuery {
  /** Only events about this kind of resource (`tenant`, `user`, `api_key`, `document`, ...). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  resource_type?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  resource_id?: string;

  /** Platform admins: the tenant whose trail to read. */
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_]{3,50}$/)
  tenantId?: string;
}

export class AuditVerifyQuery {
  /** Platform admins: the tenant whose chain to verify. */
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_]{3,50}$/)
  tenantId?: string;
}

export class AuditEventResponse {
  event_id: string;
  tenant_id: string | null;
  /** Position in the tenant's chain, from 1. */
  seq: number;
  event_type: string;
  /** Alias of `event_type`. */
  action: string;
  timestamp: string;
  /** `user:<id>`, `api_key:<id>`, `tenant:<id>`, `admin`, `bypass` or `system`. */
  actor: string;
  /** Alias of `actor`. */
  performed_by: string;
  /** The `X-User-ID` header of the request, when one was sent. */
  x_user_id: string | null;
  resource_type: string;
  resource_id: string | null;
  details: Record<string, unknown>;
  /** Alias of `details`. */
  metadata: Record<string, unknown>;
  /** Content hash of the resource, where it has one (documents). */
  sha256: string | null;
  prev_hash: string;
  hash: string;
}

export class AuditEventPage {
  items: AuditEventResponse[];
  total: number;
}

export class BrokenLink {
  event_id: string;
  seq: number;
  reason: string;
}

export class AuditVerifyResponse {
  valid: boolean;
  /** Events that checked out before the first broken one (all of them when valid). */
  checked: number;
  first_broken: BrokenLink | null;
}
