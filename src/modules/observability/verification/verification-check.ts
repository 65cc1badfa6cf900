import { randomInt } from 'node:crypto';
import type { Principal } from '../../../core/auth/principal';

export const TEST_TYPES = ['red-team', 'compliance', 'penetration'] as const;
export type TestType = (typeof TEST_TYPES)[number];

export interface CheckResult {
  passed: boolean;
  message: string;
}

/** What a check probes: this very server, over its own socket, as any client would reach it. */
export interface CheckContext {
  /** `http://<the address the verification request arrived on>:<port>`. */
  baseUrl: string;
  /** Whether the verification request reached Conflux over TLS (directly or through a trusted proxy). */
  secure: boolean;
  principal: Principal;
  /**
   * A client address from TEST-NET-2, new for every run, sent as X-Forwarded-For (trusted from loopback): the
   * probes' unauthenticated and login budgets are their own, never a real client's.
   */
  clientIp: string;
}

/** One check of a suite: a name, and a run against the live deployment that can pass or fail. */
export interface VerificationCheck {
  readonly name: string;
  run(context: CheckContext): Promise<CheckResult>;
}

export interface ProbeResponse {
  status: number;
  headers: Headers;
  text: string;
  json?: Record<string, unknown>;
}

export function newContext(baseUrl: string, secure: boolean, principal: Principal): CheckContext {
  return { baseUrl, secure, principal, clientIp: `198.51.100.${randomInt(1, 255)}` };
}

/** One HTTP request to the live deployment. */
export async function probe(
  context: CheckContext,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<ProbeResponse> {
  const res = await fetch(`${context.baseUrl}${path}`, {
    method,
    headers: { 'x-forwarded-for': context.clientIp, ...options.headers },
    body: options.body,
    signal: AbortSignal.timeout(10_000),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const pass = (message: string): CheckResult => ({ passed: true, message });
export const fail = (message: string): CheckResult => ({ passed: false, message });

/** `all of these` as one result: passed when every part did, naming the failures otherwise. */
export function allOf(
  parts: Array<{ what: string; ok: boolean; got?: string }>,
  summary: string,
): CheckResult {
  const failed = parts.filter((part) => !part.ok);
  if (failed.length === 0) return pass(summary);
  return fail(failed.map((part) => `${part.what}${part.got ? ` (got ${part.got})` : ''}`).join('; '));
}
