import jwt from 'jsonwebtoken';
import { TEST_ADMIN, TEST_JWT_SECRET } from './harness';

/** A token signed with the test JWT_SECRET (HS256 unless `options.algorithm` says otherwise). */
export function signToken(
  claims: Record<string, unknown>,
  options: jwt.SignOptions = {},
  key: jwt.Secret = TEST_JWT_SECRET,
): string {
  return jwt.sign(claims, key, {
    algorithm: 'HS256',
    ...('exp' in claims ? {} : { expiresIn: 300 }),
    ...options,
  });
}

/** The SPEC's compatibility admin token (`sub=admin`). */
export function adminToken(): string {
  return signToken({}, { subject: 'admin' });
}

export interface Credentials {
  headers: Record<string, string>;
}

export const bearer = (token: string): Credentials => ({ headers: { authorization: `Bearer ${token}` } });
export const apiKey = (key: string): Credentials => ({ headers: { 'x-api-key': key } });

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { credentials?: Credentials; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{
  status: number;
  body: Record<string, unknown> & { items?: Array<Record<string, unknown>> };
  headers: Headers;
}> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.credentials?.headers,
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

export async function loginAdmin(baseUrl: string): Promise<Credentials> {
  const res = await call(baseUrl, 'POST', '/api/v1/auth/login', { body: TEST_ADMIN });
  if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return bearer(res.body.token as string);
}

export interface OnboardedTenant {
  tenantId: string;
  ownerEmail: string;
  ownerPassword: string;
  ownerKey: Credentials;
  ownerUserId: string;
  response: Record<string, unknown>;
}

export async function onboardTenant(
  baseUrl: string,
  admin: Credentials,
  tenantId: string,
  plan: 'STARTER' | 'PROFESSIONAL' | 'SCALE' = 'SCALE',
): Promise<OnboardedTenant> {
  const ownerEmail = `owner@${tenantId.toLowerCase()}.test`;
  const ownerPassword = `pw-${tenantId}-owner`;
  const res = await call(baseUrl, 'POST', '/api/v1/tenants/onboard', {
    credentials: admin,
    body: {
      tenant_id: tenantId,
      company_name: `${tenantId} Inc`,
      admin_email: ownerEmail,
      subscription_plan: plan,
      admin_password: ownerPassword,
    },
  });
  if (res.status !== 201)
    throw new Error(`onboarding ${tenantId} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    tenantId,
    ownerEmail,
    ownerPassword,
    ownerKey: apiKey(res.body.api_key as string),
    ownerUserId: res.body.owner_user_id as string,
    response: res.body,
  };
}
