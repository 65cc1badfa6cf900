import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../core/auth/principal';
import { TokenService } from '../../../core/auth/token.service';
import { Transactions } from '../../../core/database/transaction';

/** The tenant a probe acts as, and another one whose objects it must not reach. */
export interface ProbeTenants {
  own: string;
  foreign?: string;
}

/**
 * Who the probes are: the caller's tenant (a platform admin's: the oldest active tenant) and another tenant, and
 * short-lived Conflux tokens for a tenant principal (subject `verification-probe`), so the probes go through the
 * same authentication and tenancy rules as any client.
 */
@Injectable()
export class ProbeSubjects {
  constructor(
    private readonly tx: Transactions,
    private readonly tokens: TokenService,
  ) {}

  async tenants(principal: Principal): Promise<ProbeTenants | undefined> {
    const rows = await this.tx
      .manager()
      .query<Array<{ id: string }>>(
        `SELECT id FROM tenants WHERE state = 'active' ORDER BY (id = $1) DESC, created_at, id LIMIT 2`,
        [principal.tenant_id ?? ''],
      );
    if (rows.length === 0) return undefined;
    const own = principal.tenant_id ?? rows[0].id;
    return { own, foreign: rows.find((row) => row.id !== own)?.id };
  }

  /** A bearer header for a principal of `tenantId` with `role`. */
  bearer(tenantId: string, role: 'viewer' | 'member' = 'member'): Record<string, string> {
    const { token } = this.tokens.issue({
      role,
      via: 'jwt',
      tenant_id: tenantId,
      user_id: 'verification-probe',
    });
    return { authorization: `Bearer ${token}` };
  }

  /** Something the foreign tenant owns (a workflow, else a run), for cross-tenant probes. */
  async foreignObject(tenantId: string): Promise<{ path: string; what: string } | undefined> {
    const m = this.tx.manager();
    const workflow = await m.query<
      Array<{
        id: string;
      }>
    >('SELECT id FROM workflows WHERE tenant_id = $1 LIMIT 1', [tenantId]);
    if (workflow[0]) return { path: `/api/v1/workflows/${workflow[0].id}`, what: 'workflow' };
    const run = await m.query<
      Array<{
        id: string;
      }>
    >('SELECT id FROM runs WHERE tenant_id = $1 LIMIT 1', [tenantId]);
    if (run[0]) return { path: `/api/v1/runs/${run[0].id}`, what: 'run' };
    return undefined;
  }
}
