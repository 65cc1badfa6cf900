import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { signWebhook } from '../../../src/modules/triggers/webhook-signature';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let other: OnboardedTenant;
let workflowId: string;
let secret: string;

beforeAll(async () => {
  // 1,000 deliveries come from one test IP; the per-IP limit of public routes has its own test below.
  backends = await createTestBackends({ RATE_LIMIT_IP_PER_MINUTE: '100000' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
  workflowId = await publish(
    api.url,
    acme,
    graph(
      [
        { id: 'hook', type: 'trigger.webhook' },
        { id: 'ref', type: 'transform', config: { expression: 'input.body.ref' } },
      ],
      ['hook->ref'],
    ),
  );
  const rotated = await call(api.url, 'POST', `/api/v1/workflows/${workflowId}/webhook-secret`, {
    credentials: acme.ownerKey,
  });
  secret = rotated.body.secret as string;
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

function deliver(body: string, headers: Record<string, string> = {}, id = workflowId) {
  return fetch(`${api.url}/api/v1/triggers/webhook/${id}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('webhook triggers', () => {
  it('starts one run for a validly signed delivery, with its body and headers as input', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const res = await deliver(body, {
      'x-conflux-signature': signWebhook(secret, body),
      'x-github-event': 'push',
      'x-api-token': 'tok_sender_credential',
      'x-session-token': 'sess_sender_credential',
      'x-partner-secret': 'partner_credential',
    });
    expect(res.status).toBe(201);
    const run = (await res.json()) as {
      id: string;
      trigger_type: string;
      input: { headers: Record<string, string> };
    };
    expect(run.trigger_type).toBe('webhook');
    expect(run.input.headers['x-github-event']).toBe('push');
    expect(run.input.headers).not.toHaveProperty('x-conflux-signature');
    // Secret-named headers never reach the run (nor its stored input), whatever the sender calls them.
    expect(Object.keys(run.input.headers)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/token|secret|signature|authorization|cookie/)]),
    );
    expect(JSON.stringify(run)).not.toMatch(/_credential/);
    const done = await waitForStatus(api.url, acme, run.id, ['completed', 'failed']);
    expect(done.context.steps.ref.output).toBe('refs/heads/main');
  });

  it('answers a replayed signed delivery with the run it started, whatever delivery id it now carries', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/replayed' });
    const signature = signWebhook(secret, body);
    const first = await deliver(body, { 'x-conflux-signature': signature, 'x-delivery-id': 'genuine-1' });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const forged: Array<Record<string, string>> = [
      { 'x-delivery-id': 'forged-2' },
      { 'x-delivery-id': 'forged-3' },
      {},
    ];
    for (const headers of forged) {
      const replay = await deliver(body, { 'x-conflux-signature': signature, ...headers });
      expect(replay.status).toBe(200);
      expect(((await replay.json()) as { id: string }).id).toBe(id);
    }
    // Without a delivery id at all, the signed content alone dedupes.
    const other = JSON.stringify({ ref: 'refs/heads/no-id' });
    const otherSignature = signWebhook(secret, other);
    const a = await deliver(other, { 'x-conflux-signature': otherSignature });
    const b = await deliver(other, { 'x-conflux-signature': otherSignature });
    expect([a.status, b.status]).toEqual([201, 200]);
  });

  it('answers a signed delivery that is not JSON with 415, before looking at the signature', async () => {
    const body = 'ref=refs/heads/main';
    const res = await deliver(body, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-conflux-signature': signWebhook(secret, body),
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error_code: string }).error_code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('counts deliveries against the caller IP, as every public route does', async () => {
    const strict = await startTestApi({ ...backends.env, RATE_LIMIT_IP_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const body = JSON.stringify({ ref: `ip-${i}` });
        const res = await fetch(`${strict.url}/api/v1/triggers/webhook/${workflowId}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-conflux-signature': signWebhook(secret, body) },
        });
        statuses.push(res.status);
        if (res.status === 429)
          expect(((await res.json()) as { details: { policy: string } }).details.policy).toBe('ip');
      }
      // The budget is shared with the other instances of this file on the same IP, so count from the end.
      expect(statuses.at(-1)).toBe(429);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2);
    } finally {
      await strict.close();
    }
  });

  it('counts refused deliveries too: a flood of bad signatures is stopped by its IP budget before any check', async () => {
    const strict = await startTestApi({ ...backends.env, RATE_LIMIT_IP_PER_MINUTE: '3' });
    try {
      const answers: Array<{ status: number; policy?: string }> = [];
      for (let i = 0; i < 6; i += 1) {
        const body = JSON.stringify({ ref: `forged-${i}` });
        const target = i % 2 === 0 ? workflowId : '00000000-0000-4000-8000-000000000000';
        const res = await fetch(`${strict.url}/api/v1/triggers/webhook/${target}`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-conflux-signature': signWebhook('whsec_forged', body),
          },
        });
        const answer = (await res.json()) as { details?: { policy?: string } };
        answers.push({ status: res.status, policy: answer.details?.policy });
        expect(res.headers.get('ratelimit-policy')).toContain('"ip";q=3');
      }
      // Refused (401 for the signature, 404 for the unknown workflow) until the IP's budget is spent, then 429.
      expect(answers.at(-1)).toEqual({ status: 429, policy: 'ip' });
      expect(answers.every((a) => [401, 404, 429].includes(a.status))).toBe(true);
    } finally {
      await strict.close();
    }
  });

  it('refuses a bad, stale or missing signature with 401', async () => {
    const body = JSON.stringify({ ref: 'x' });
    const bad = await deliver(body, { 'x-conflux-signature': signWebhook('whsec_wrong', body) });
    const stale = await deliver(body, {
      'x-conflux-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000) - 600),
    });
    const tampered = await deliver(JSON.stringify({ ref: 'y' }), {
      'x-conflux-signature': signWebhook(secret, body),
    });
    const missing = await deliver(body);
    expect([bad.status, stale.status, tampered.status, missing.status]).toEqual([401, 401, 401, 401]);
    expect(((await stale.json()) as { message: string }).message).toMatch(/tolerance/);
    expect(((await missing.json()) as { error_code: string }).error_code).toBe('AUTHENTICATION_REQUIRED');
  });

  it('accepts an API key of the tenant instead, and refuses another tenant (404)', async () => {
    const body = JSON.stringify({ ref: 'k' });
    expect((await deliver(body, { 'x-api-key': acme.ownerKey.headers['x-api-key'] })).status).toBe(201);
    expect((await deliver(body, { 'x-api-key': other.ownerKey.headers['x-api-key'] })).status).toBe(404);
  });

  it('answers 404 for an unknown workflow and 409 for an unpublished one', async () => {
    expect((await deliver('{}', {}, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const draft = await call(api.url, 'POST', '/api/v1/workflows', {
      credentials: acme.ownerKey,
      body: { name: 'draft' },
    });
    const draftSecret = (
      await call(api.url, 'POST', `/api/v1/workflows/${draft.body.id as string}/webhook-secret`, {
        credentials: acme.ownerKey,
      })
    ).body.secret as string;
    expect(
      (
        await deliver(
          '{}',
          { 'x-conflux-signature': signWebhook(draftSecret, '{}') },
          draft.body.id as string,
        )
      ).status,
    ).toBe(409);
  });

  it('stops accepting the old secret after rotation', async () => {
    const old = secret;
    const rotated = await call(api.url, 'POST', `/api/v1/workflows/${workflowId}/webhook-secret`, {
      credentials: acme.ownerKey,
    });
    secret = rotated.body.secret as string;
    expect(secret).not.toBe(old);
    expect((await deliver('{}', { 'x-conflux-signature': signWebhook(old, '{}') })).status).toBe(401);
    expect((await deliver('{}', { 'x-conflux-signature': signWebhook(secret, '{}') })).status).toBe(201);
  });

  it('creates exactly 100 runs from 1,000 concurrent deliveries of 100 delivery ids', async () => {
    const deliveries = Array.from({ length: 1000 }, (_, i) => {
      const body = JSON.stringify({ ref: `d${i % 100}` });
      return () =>
        deliver(body, {
          'x-conflux-signature': signWebhook(secret, body),
          'x-delivery-id': `delivery-${i % 100}`,
        });
    });
    const statuses: number[] = [];
    for (let i = 0; i < deliveries.length; i += 250) {
      statuses.push(
        ...(await Promise.all(deliveries.slice(i, i + 250).map((send) => send().then((r) => r.status)))),
      );
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(statuses.filter((s) => s === 200)).toHaveLength(900);
    const db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE idempotency_key LIKE 'webhook:%delivery-%'`,
    );
    await db.end();
    expect(rows[0].n).toBe(100);
  });
});
