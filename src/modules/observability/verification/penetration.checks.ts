import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  allOf,
  type CheckContext,
  type CheckResult,
  fail,
  pass,
  probe,
  type VerificationCheck,
} from './verification-check';

/** The headers helmet sets, on a real answer, and no `X-Powered-By`. */
@Injectable()
export class SecurityHeadersCheck implements VerificationCheck {
  readonly name = 'security headers';

  async run(context: CheckContext): Promise<CheckResult> {
    const { headers } = await probe(context, 'GET', '/health');
    const has = (name: string, expected?: RegExp) => {
      const value = headers.get(name);
      return {
        what: `${name}${expected ? ` ${expected.source}` : ''}`,
        ok: value !== null && (!expected || expected.test(value)),
        got: value ?? 'missing',
      };
    };
    return allOf(
      [
        has('x-content-type-options', /^nosniff$/i),
        has('x-frame-options', /^(deny|sameorigin)$/i),
        has('content-security-policy', /default-src/),
        has('referrer-policy'),
        has('cross-origin-opener-policy'),
        {
          what: 'no x-powered-by',
          ok: headers.get('x-powered-by') === null,
          got: headers.get('x-powered-by') ?? '',
        },
      ],
      'nosniff, frame options, CSP, referrer and opener policies set; no X-Powered-By',
    );
  }
}

/** A preflight from an origin nobody configured gets no CORS grant (neither its origin echoed nor `*`). */
@Injectable()
export class CorsCheck implements VerificationCheck {
  readonly name = 'CORS does not reflect arbitrary origins';

  async run(context: CheckContext): Promise<CheckResult> {
    const origin = `https://${randomBytes(6).toString('hex')}.attacker.example`;
    const headers = {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    };
    const preflight = await probe(context, 'OPTIONS', '/api/v1/auth/me', { headers });
    const simple = await probe(context, 'GET', '/health', { headers: { origin } });
    const granted = [preflight, simple]
      .map((res) => res.headers.get('access-control-allow-origin'))
      .filter((value) => value === origin || value === '*');
    return granted.length === 0
      ? pass(`${origin} got no Access-Control-Allow-Origin`)
      : fail(`${origin} was granted Access-Control-Allow-Origin: ${granted[0]}`);
  }
}

/** A JSON body of 16 MiB + 1 byte is refused with 413 PAYLOAD_TOO_LARGE (and not parsed). */
@Injectable()
export class BodyLimitCheck implements VerificationCheck {
  readonly name = 'body limit enforced';
  static readonly BYTES = 16 * 1024 * 1024 + 1;

  async run(context: CheckContext): Promise<CheckResult> {
    const body = `{"padding":"${'x'.repeat(BodyLimitCheck.BYTES - 14)}"}`;
    const res = await probe(context, 'POST', '/api/v1/auth/login', {
      headers: { 'content-type': 'application/json' },
      body,
    });
    return res.status === 413 && res.json?.error_code === 'PAYLOAD_TOO_LARGE'
      ? pass(`a ${body.length}-byte JSON body answers 413 PAYLOAD_TOO_LARGE`)
      : fail(
          `a ${body.length}-byte JSON body answered ${res.status} ${typeof res.json?.error_code === 'string' ? res.json.error_code : ''}`,
        );
  }
}

/** Error answers are the SPEC's envelope with a request id: no stack trace, no SQL, no file paths. */
@Injectable()
export class ErrorBodiesCheck implements VerificationCheck {
  readonly name = 'error bodies free of stacks';

  async run(context: CheckContext): Promise<CheckResult> {
    const errors = [
      await probe(context, 'GET', `/api/v1/${randomBytes(4).toString('hex')}-does-not-exist`),
      await probe(context, 'POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json' },
        body: '{"email": ',
      }),
      await probe(context, 'GET', '/api/v1/workflows/not-a-uuid', {
        headers: { authorization: 'Bearer x.y.z' },
      }),
    ];
    const leaks = /\n\s+at |node_modules|\/src\/|\.ts:\d+|"stack"|SELECT |QueryFailedError/;
    return allOf(
      errors.map((res, index) => ({
        what: `error ${index + 1} (${res.status}) is an envelope with a request id and no internals`,
        ok:
          res.status >= 400 &&
          typeof res.json?.error_code === 'string' &&
          typeof res.json?.request_id === 'string' &&
          !leaks.test(res.text),
        got: res.text.slice(0, 200),
      })),
      `${errors.length} error answers (${errors.map((res) => res.status).join(', ')}): envelopes, no stacks`,
    );
  }
}

/** The operator surfaces need credentials: metrics, the queue dashboard, tenant lists. */
@Injectable()
export class AnonymousAccessCheck implements VerificationCheck {
  readonly name = 'operator endpoints need credentials';

  async run(context: CheckContext): Promise<CheckResult> {
    const paths = ['/metrics', '/admin/queues', '/api/v1/tenants', '/api/v1/audit/events'];
    const parts = [];
    for (const path of paths) {
      const res = await probe(context, 'GET', path);
      parts.push({
        what: `${path} answers 401 without credentials`,
        ok: res.status === 401,
        got: String(res.status),
      });
    }
    return allOf(parts, `${paths.join(', ')}: 401 without credentials`);
  }
}
