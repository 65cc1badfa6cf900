import { Injectable } from '@nestjs/common';
import { AuthConfig } from '../../../core/config/auth.config';
import { EngineConfig } from '../../../core/config/engine.config';
import { ObservabilityConfig } from '../../../core/config/observability.config';
import { Transactions } from '../../../core/database/transaction';
import { AuditService } from '../../audit/audit.service';
import {
  allOf,
  type CheckContext,
  type CheckResult,
  fail,
  pass,
  probe,
  type VerificationCheck,
} from './verification-check';

/** Every tenant's audit hash chain verifies from its first event. */
@Injectable()
export class AuditChainCheck implements VerificationCheck {
  readonly name = 'audit chain verifies';
  constructor(
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  async run(): Promise<CheckResult> {
    const tenants = await this.tx.manager().query<
      Array<{
        tenant_id: string;
      }>
    >('SELECT DISTINCT tenant_id FROM audit_events WHERE tenant_id IS NOT NULL');
    let events = 0;
    for (const { tenant_id } of tenants) {
      const result = await this.audit.verify(tenant_id);
      if (!result.valid)
        return fail(
          `tenant '${tenant_id}': event ${result.first_broken?.seq} (${result.first_broken?.event_id}): ${result.first_broken?.reason}`,
        );
      events += result.checked;
    }
    return pass(`${tenants.length} tenant chains, ${events} events, every link and hash checks out`);
  }
}

/** API keys are stored as SHA-256 hashes only: no row holds something that is not a hex digest. */
@Injectable()
export class ApiKeysHashedCheck implements VerificationCheck {
  readonly name = 'API keys stored hashed';
  constructor(private readonly tx: Transactions) {}

  async run(): Promise<CheckResult> {
    const [row] = await this.tx.manager().query<Array<{ total: number; not_hashed: number }>>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE key_hash !~ '^[0-9a-f]{64}$')::int AS not_hashed
         FROM api_keys`,
    );
    if (row.not_hashed > 0)
      return fail(`${row.not_hashed} of ${row.total} API keys are not stored as a SHA-256 hash`);
    return pass(`${row.total} API keys, each stored as a SHA-256 hex digest with a lookup prefix`);
  }
}

/**
 * Webhook secrets are not kept as issued: a stored value in the issued form (`whsec_...`) is a secret in clear;
 * encrypted values (any other form) pass.
 */
@Injectable()
export class WebhookSecretsCheck implements VerificationCheck {
  readonly name = 'webhook secrets not in clear';
  constructor(private readonly tx: Transactions) {}

  async run(): Promise<CheckResult> {
    const [row] = await this.tx.manager().query<Array<{ total: number; clear: number }>>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE secret LIKE 'whsec\\_%')::int AS clear
         FROM webhook_secrets`,
    );
    if (row.clear > 0)
      return fail(`${row.clear} of ${row.total} webhook secrets are stored in clear (whsec_...)`);
    return pass(
      row.total === 0 ? 'no webhook secrets stored' : `${row.total} webhook secrets, none stored as issued`,
    );
  }
}

/** AUTH_BYPASS is off, and a request without credentials is refused. */
@Injectable()
export class AuthBypassOffCheck implements VerificationCheck {
  readonly name = 'AUTH_BYPASS off';
  constructor(private readonly auth: AuthConfig) {}

  async run(context: CheckContext): Promise<CheckResult> {
    const res = await probe(context, 'GET', '/api/v1/tenants');
    return allOf(
      [
        { what: 'AUTH_BYPASS is off', ok: !this.auth.AUTH_BYPASS, got: 'AUTH_BYPASS=true' },
        {
          what: 'a request without credentials answers 401',
          ok: res.status === 401,
          got: String(res.status),
        },
      ],
      'AUTH_BYPASS is off and anonymous requests answer 401',
    );
  }
}

/** Strict-Transport-Security of at least 180 days on answers (required when the deployment is reached over TLS). */
@Injectable()
export class HstsCheck implements VerificationCheck {
  readonly name = 'TLS/HSTS headers';
  static readonly MIN_MAX_AGE = 15_552_000;

  async run(context: CheckContext): Promise<CheckResult> {
    const res = await probe(context, 'GET', '/health');
    const header = res.headers.get('strict-transport-security');
    const maxAge = Number(/max-age=(\d+)/i.exec(header ?? '')?.[1] ?? 0);
    const where = context.secure ? 'reached over TLS' : 'reached over plain HTTP (TLS ends in front of it)';
    if (maxAge >= HstsCheck.MIN_MAX_AGE) return pass(`${where}; Strict-Transport-Security: ${header}`);
    return fail(
      header
        ? `${where}; Strict-Transport-Security max-age ${maxAge} is under 180 days`
        : `${where}; no Strict-Transport-Security header`,
    );
  }
}

/** Data is not kept forever: run retention, the log store and the metrics history are bounded. */
@Injectable()
export class RetentionSettingsCheck implements VerificationCheck {
  readonly name = 'retention settings present';
  constructor(
    private readonly engine: EngineConfig,
    private readonly observability: ObservabilityConfig,
  ) {}

  async run(): Promise<CheckResult> {
    const days = this.engine.RUN_RETENTION_DAYS;
    return allOf(
      [
        {
          what: 'RUN_RETENTION_DAYS is set (0 keeps finished runs forever)',
          ok: days > 0,
          got: String(days),
        },
      ],
      `runs kept ${days} days; log store capped at ${this.observability.LOG_STORE_MAX_ENTRIES} lines; metrics history ${this.observability.METRICS_HISTORY_SECONDS} s`,
    );
  }
}
