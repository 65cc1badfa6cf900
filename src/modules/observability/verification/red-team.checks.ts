import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { EngineConfig } from '../../../core/config/engine.config';
import { RateLimitConfig } from '../../../core/config/rate-limit.config';
import { allowListFrom, assertReachable, SsrfBlockedError } from '../../steps/http-request/ssrf';
import { ProbeSubjects } from './probe-subjects';
import {
  allOf,
  type CheckContext,
  type CheckResult,
  fail,
  pass,
  probe,
  type VerificationCheck,
} from './verification-check';

/** A tenant principal asks for another tenant's object (404) and for the other tenant itself (403/404). */
@Injectable()
export class CrossTenantProbeCheck implements VerificationCheck {
  readonly name = 'cross-tenant id probes answer 404';
  constructor(private readonly subjects: ProbeSubjects) {}

  async run(context: CheckContext): Promise<CheckResult> {
    const tenants = await this.subjects.tenants(context.principal);
    if (!tenants?.foreign) return pass('fewer than two tenants: there is no other tenant to probe');
    const headers = this.subjects.bearer(tenants.own, 'viewer');
    const parts = [];
    const object = await this.subjects.foreignObject(tenants.foreign);
    if (object) {
      const res = await probe(context, 'GET', object.path, { headers });
      parts.push({
        what: `another tenant's ${object.what} answers 404`,
        ok: res.status === 404,
        got: String(res.status),
      });
    }
    const tenant = await probe(context, 'GET', `/api/v1/tenants/${tenants.foreign}`, { headers });
    parts.push({
      what: 'another tenant answers 403 or 404',
      ok: tenant.status === 403 || tenant.status === 404,
      got: String(tenant.status),
    });
    return allOf(
      parts,
      `as '${tenants.own}': '${tenants.foreign}' and ${object ? `its ${object.what}` : 'nothing of it'} unreachable`,
    );
  }
}

/** A token signed with a key that is not this deployment's is refused. */
@Injectable()
export class ForgedTokenCheck implements VerificationCheck {
  readonly name = 'forged tokens refused';

  async run(context: CheckContext): Promise<CheckResult> {
    const forged = jwt.sign({ role: 'admin' }, randomBytes(32).toString('hex'), {
      algorithm: 'HS256',
      subject: 'admin',
      expiresIn: 60,
    });
    const res = await probe(context, 'GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${forged}` },
    });
    return res.status === 401
      ? pass('a platform-admin token signed with a random key answers 401')
      : fail(`a platform-admin token signed with a random key answered ${res.status}`);
  }
}

/** An unsigned token (`alg: none`) is refused. */
@Injectable()
export class AlgNoneTokenCheck implements VerificationCheck {
  readonly name = 'alg:none tokens refused';

  async run(context: CheckContext): Promise<CheckResult> {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'admin', role: 'admin', exp })}.`;
    const res = await probe(context, 'GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    return res.status === 401
      ? pass('an unsigned (alg: none) admin token answers 401')
      : fail(`an unsigned (alg: none) admin token answered ${res.status}`);
  }
}

/** Statements that would leave the tenant's sandbox, sent through `/data/query` as a tenant member. */
@Injectable()
export class SqlSandboxEscapeCheck implements VerificationCheck {
  readonly name = 'SQL sandbox escapes refused';
  constructor(private readonly subjects: ProbeSubjects) {}

  async run(context: CheckContext): Promise<CheckResult> {
    const tenants = await this.subjects.tenants(context.principal);
    if (!tenants) return pass('no tenant: there is no sandbox to escape');
    const headers = { ...this.subjects.bearer(tenants.own, 'member'), 'content-type': 'application/json' };
    const foreignSchema = `tenant_${tenants.foreign ?? 'nonexistent'}`;
    const escapes = [
      `SELECT * FROM "${foreignSchema}".tenant_pipeline_runs`,
      'SELECT rolname, rolpassword FROM pg_authid',
      "SELECT pg_read_file('/etc/passwd')",
      'SELECT 1; DROP TABLE tenant_pipeline_runs',
      "COPY (SELECT 1) TO PROGRAM 'id'",
      'CREATE TABLE escaped (id int)',
      "SELECT set_config('role', 'postgres', false)",
    ];
    const parts = [];
    for (const sql of escapes) {
      const res = await probe(context, 'POST', '/api/v1/data/query', {
        headers,
        body: JSON.stringify({ sql }),
      });
      parts.push({
        what: `${sql} is refused`,
        ok: res.status === 400 || res.status === 403,
        got: String(res.status),
      });
    }
    return allOf(parts, `${escapes.length} escape attempts refused (400/403) as '${tenants.own}'`);
  }
}

/** The HTTP step's SSRF guard refuses cloud metadata and loopback addresses under this deployment's allow-list. */
@Injectable()
export class SsrfMetadataCheck implements VerificationCheck {
  readonly name = 'SSRF to metadata refused';
  constructor(private readonly engine: EngineConfig) {}

  async run(): Promise<CheckResult> {
    const allow = allowListFrom(this.engine.HTTP_STEP_ALLOW_HOSTS);
    const targets = [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://100.100.100.200/latest/meta-data/',
      'http://127.0.0.1/',
    ];
    const parts = [];
    for (const target of targets) {
      let refused = false;
      try {
        await assertReachable(new URL(target), allow);
      } catch (error) {
        refused = error instanceof SsrfBlockedError;
      }
      parts.push({
        what: `${target} refused by the HTTP step's guard`,
        ok: refused,
        got: refused ? '' : 'allowed',
      });
    }
    return allOf(parts, `${targets.length} metadata and loopback targets refused`);
  }
}

/** Brute force on the login is stopped: more than RATE_LIMIT_LOGIN_PER_MINUTE attempts from one client get 429. */
@Injectable()
export class RateLimitingCheck implements VerificationCheck {
  readonly name = 'rate limiting on';
  /** A login limit above this is no brute-force protection. */
  static readonly MAX_SANE_LOGIN_LIMIT = 30;
  constructor(private readonly limits: RateLimitConfig) {}

  async run(context: CheckContext): Promise<CheckResult> {
    const limit = this.limits.RATE_LIMIT_LOGIN_PER_MINUTE;
    if (limit > RateLimitingCheck.MAX_SANE_LOGIN_LIMIT)
      return fail(
        `RATE_LIMIT_LOGIN_PER_MINUTE is ${limit}: above ${RateLimitingCheck.MAX_SANE_LOGIN_LIMIT} login attempts a minute is no brute-force protection`,
      );
    const body = JSON.stringify({
      email: 'verification-probe@conflux.invalid',
      password: 'not-the-password',
    });
    // The limit counts per window: attempts that straddle a window's end can all pass once, never twice.
    const attempts = 2 * limit + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const res = await probe(context, 'POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (res.status === 429) {
        const retry = res.headers.get('retry-after');
        return attempt > limit
          ? pass(`login attempt ${attempt} from one client answered 429 (Retry-After ${retry})`)
          : pass(`login attempt ${attempt} answered 429 already (limit ${limit}/min)`);
      }
    }
    return fail(`${attempts} login attempts from one client within a minute were all let through`);
  }
}
