import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  type OnboardedTenant,
  onboardTenant,
} from '../../support/auth';
import { upload } from '../documents/documents-support';
import { graph } from '../../support/engine';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;
let member: Credentials;
let viewer: Credentials;

const PROD_RULE = {
  action: 'run',
  subject: 'Workflow',
  inverted: true,
  conditions: { tags: 'prod' },
  reason: 'members may not run workflows tagged prod',
};

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  await onboardTenant(api.url, admin, 'umbrella');
  for (const role of ['member', 'viewer'] as const) {
    const key = await call(api.url, 'POST', '/api/v1/api-keys', {
      credentials: acme.ownerKey,
      body: { name: role, role },
    });
    if (role === 'member') member = apiKey(key.body.api_key as string);
    else viewer = apiKey(key.body.api_key as string);
  }
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

async function publishedWorkflow(name: string, tags: string[]): Promise<string> {
  const created = await call(api.url, 'POST', '/api/v1/workflows', {
    credentials: acme.ownerKey,
    body: { name, tags, definition: graph([{ id: 'start', type: 'trigger.manual' }], []) },
  });
  expect(created.status).toBe(201);
  expect(created.body.tags).toEqual(tags);
  const published = await call(api.url, 'POST', `/api/v1/workflows/${created.body.id as string}/publish`, {
    credentials: acme.ownerKey,
  });
  expect(published.status).toBe(200);
  return created.body.id as string;
}

describe('policy dry-run', () => {
  it('answers, for each sample record and action, whether it is allowed and on which fields', async () => {
    const res = await call(api.url, 'POST', '/api/v1/policies/dryrun', {
      credentials: acme.ownerKey,
      body: {
        policy: {
          rules: [PROD_RULE, { action: 'read', subject: 'Run', fields: ['id', 'status'] }],
        },
        records: [
          { subject: 'Workflow', data: { id: 'w1', name: 'nightly', tags: ['prod'] } },
          { subject: 'Workflow', data: { id: 'w2', name: 'scratch', tags: ['dev'] } },
          { subject: 'Run', data: { id: 'r1', status: 'completed', input: { secret: 1 } } },
        ],
        actions: ['run', 'read'],
      },
    });
    expect(res.status).toBe(200);
    const table = (res.body.results as Array<Record<string, unknown>>).map((r) => [
      r.record,
      r.action,
      r.allowed,
      r.fields,
      r.reason ?? null,
    ]);
    expect(res.body.role).toBe('member');
    expect(table).toEqual([
      [0, 'run', false, [], 'members may not run workflows tagged prod'],
      [0, 'read', true, ['id', 'name', 'tags'], null],
      [1, 'run', true, ['id', 'name', 'tags'], null],
      [1, 'read', true, ['id', 'name', 'tags'], null],
      // The policy says nothing about running a Run: the member role's default stands.
      [2, 'run', true, ['id', 'status', 'input'], null],
      [2, 'read', true, ['id', 'status'], null],
    ]);
  });

  it('narrows only: a viewer stays read-only whatever a policy grants', async () => {
    const res = await call(api.url, 'POST', '/api/v1/policies/dryrun', {
      credentials: acme.ownerKey,
      body: {
        role: 'viewer',
        policy: { rules: [{ action: 'manage', subject: 'all' }] },
        records: [{ subject: 'Workflow', data: { id: 'w1' } }],
        actions: ['read', 'update', 'run'],
      },
    });
    expect(res.status).toBe(200);
    expect((res.body.results as Array<{ allowed: boolean }>).map((r) => r.allowed)).toEqual([
      true,
      false,
      false,
    ]);
  });

  it.each([
    [{ action: 'launch', subject: 'Workflow' }, "unknown action 'launch'"],
    [{ action: 'read', subject: 'Spaceship' }, "unknown subject 'Spaceship'"],
    [
      { action: 'read', subject: 'Workflow', conditions: { tags: { $where: 'x' } } },
      "unknown operator '$where'",
    ],
    [
      { action: 'read', subject: 'Workflow', conditions: { name: { $regex: '(a+)+$' } } },
      "unknown operator '$regex'",
    ],
    [{ action: 'read', subject: 'Workflow', conditions: { $function: {} } }, "unknown operator '$function'"],
    [{ action: 'read', subject: 'Workflow', fields: ['ok', 'bad field'] }, "'bad field' is not a field name"],
    [{ action: 'read', subject: 'Workflow', when: 'always' }, 'rules[0].when is not a rule field'],
  ])('refuses a bad rule with 400 naming the problem: %j', async (rule, problem) => {
    for (const path of ['/api/v1/policies/dryrun', '/api/v1/policies']) {
      const body =
        path === '/api/v1/policies'
          ? { name: 'bad', rules: [rule] }
          : { policy: { rules: [rule] }, records: [{ subject: 'Workflow', data: {} }] };
      const res = await call(api.url, 'POST', path, { credentials: acme.ownerKey, body });
      expect(res.status).toBe(400);
      expect(res.body.error_code).toBe('VALIDATION_ERROR');
      expect(res.body.message).toContain(problem);
    }
    const list = await call(api.url, 'GET', '/api/v1/policies', { credentials: acme.ownerKey });
    expect(list.body.items?.find((p) => p.name === 'bad')).toBeUndefined();
  });

  it('answers 422 when rules are missing', async () => {
    const res = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'empty' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
  });
});

describe('policies CRUD', () => {
  it('creates, lists, reads, replaces and deletes (owner only; Launchpad alias answers the same)', async () => {
    const created = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: {
        name: 'crud',
        rules: [{ action: 'delete', subject: 'Workflow', inverted: true }],
        enabled: false,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'crud',
      roles: ['member', 'viewer'],
      enabled: false,
      version: 1,
    });
    const id = created.body.id as string;

    const dup = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'crud', rules: [{ action: 'read', subject: 'all' }] },
    });
    expect(dup.status).toBe(409);

    const v1 = await call(api.url, 'GET', '/api/v1/policies', { credentials: acme.ownerKey });
    const alias = await call(api.url, 'GET', '/api/policies', { credentials: acme.ownerKey });
    expect(alias.status).toBe(200);
    expect(alias.body).toEqual(v1.body);
    expect(v1.body.items?.map((p) => p.id)).toContain(id);

    const replaced = await call(api.url, 'PUT', `/api/v1/policies/${id}`, {
      credentials: acme.ownerKey,
      body: {
        name: 'crud',
        roles: ['member'],
        rules: [{ action: 'update', subject: 'Run', inverted: true }],
        enabled: false,
      },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, roles: ['member'] });
    expect(
      (await call(api.url, 'GET', `/api/v1/policies/${id}`, { credentials: acme.ownerKey })).body.rules,
    ).toEqual([{ action: 'update', subject: 'Run', inverted: true }]);

    for (const creds of [member, viewer]) {
      expect((await call(api.url, 'GET', '/api/v1/policies', { credentials: creds })).status).toBe(403);
    }
    const other = await call(api.url, 'GET', `/api/v1/policies/${id}?tenantId=umbrella`, {
      credentials: admin,
    });
    expect(other.status).toBe(404);

    expect(
      (await call(api.url, 'DELETE', `/api/v1/policies/${id}`, { credentials: acme.ownerKey })).status,
    ).toBe(204);
    const gone = await call(api.url, 'GET', `/api/v1/policies/${id}`, { credentials: acme.ownerKey });
    expect(gone.status).toBe(404);
    expect(gone.body.error_code).toBe('POLICY_NOT_FOUND');

    const audit = await call(api.url, 'GET', `/api/v1/audit/events?resource_type=policy&resource_id=${id}`, {
      credentials: acme.ownerKey,
    });
    expect(audit.body.items?.map((e) => e.event_type)).toEqual(
      expect.arrayContaining(['policy.created', 'policy.updated', 'policy.deleted']),
    );
  });
});

describe('policy enforcement', () => {
  it('denies a member an action the role allows, audits the deny, and binds neither owners nor a disabled policy', async () => {
    const prod = await publishedWorkflow('nightly-billing', ['prod']);
    const dev = await publishedWorkflow('scratch', ['dev']);
    expect(
      (await call(api.url, 'POST', `/api/v1/workflows/${prod}/run`, { credentials: member, body: {} }))
        .status,
    ).toBe(201);

    const policy = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'no prod runs', rules: [PROD_RULE] },
    });
    expect(policy.status).toBe(201);

    const denied = await call(api.url, 'POST', `/api/v1/workflows/${prod}/run`, {
      credentials: member,
      body: {},
    });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      error_code: 'INSUFFICIENT_PERMISSIONS',
      details: { action: 'run', subject: 'Workflow', policy_id: policy.body.id },
    });
    expect(denied.body.message).toContain('members may not run workflows tagged prod');
    const runs = await call(api.url, 'GET', `/api/v1/runs?workflow_id=${prod}`, {
      credentials: acme.ownerKey,
    });
    expect(runs.body.total).toBe(1);

    expect(
      (await call(api.url, 'POST', `/api/v1/workflows/${dev}/run`, { credentials: member, body: {} })).status,
    ).toBe(201);
    expect(
      (await call(api.url, 'POST', `/api/v1/workflows/${prod}/run`, { credentials: acme.ownerKey, body: {} }))
        .status,
    ).toBe(201);
    // Reading the workflow is not what the policy is about.
    expect((await call(api.url, 'GET', `/api/v1/workflows/${prod}`, { credentials: member })).status).toBe(
      200,
    );

    const audit = await call(
      api.url,
      'GET',
      `/api/v1/audit/events?resource_type=workflow&resource_id=${prod}`,
      {
        credentials: acme.ownerKey,
      },
    );
    const deny = audit.body.items?.find((e) => e.event_type === 'policy.denied');
    expect(deny).toMatchObject({
      details: { action: 'run', subject: 'Workflow', role: 'member', policy_id: policy.body.id },
    });
    expect(String(deny?.actor)).toMatch(/^api_key:/);

    await call(api.url, 'PUT', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
      body: { name: 'no prod runs', rules: [PROD_RULE], enabled: false },
    });
    expect(
      (await call(api.url, 'POST', `/api/v1/workflows/${prod}/run`, { credentials: member, body: {} }))
        .status,
    ).toBe(201);
    await call(api.url, 'DELETE', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
    });
  });

  it('a positive rule narrows to what it grants: members may edit only drafts tagged sandbox', async () => {
    const policy = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: {
        name: 'sandbox edits',
        roles: ['member'],
        rules: [
          { action: ['update', 'delete'], subject: 'Workflow', conditions: { tags: { $in: ['sandbox'] } } },
        ],
      },
    });
    expect(policy.status).toBe(201);
    const draft = async (tags: string[]) =>
      (await call(api.url, 'POST', '/api/v1/workflows', { credentials: member, body: { name: 'd', tags } }))
        .body.id as string;
    const sandbox = await draft(['sandbox']);
    const other = await draft(['finance']);
    const patch = (id: string) =>
      call(api.url, 'PUT', `/api/v1/workflows/${id}`, {
        credentials: member,
        body: { description: 'edited' },
      });
    expect((await patch(sandbox)).status).toBe(200);
    const refused = await patch(other);
    expect(refused.status).toBe(403);
    expect(refused.body.details).toMatchObject({ action: 'update', policy: 'sandbox edits' });
    expect(
      (await call(api.url, 'GET', `/api/v1/workflows/${other}`, { credentials: member })).body.description,
    ).toBe('');
    expect(
      (await call(api.url, 'DELETE', `/api/v1/workflows/${other}`, { credentials: member })).status,
    ).toBe(403);
    expect(
      (await call(api.url, 'DELETE', `/api/v1/workflows/${sandbox}`, { credentials: member })).status,
    ).toBe(204);
    await call(api.url, 'DELETE', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
    });
  });
});

describe('Launchpad users alias', () => {
  it('GET and POST /api/auth/users answer as /api/v1/users', async () => {
    const created = await call(api.url, 'POST', '/api/auth/users', {
      credentials: acme.ownerKey,
      body: { email: 'newbie@acme.test', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    const v1 = await call(api.url, 'GET', '/api/v1/users', { credentials: acme.ownerKey });
    const alias = await call(api.url, 'GET', '/api/auth/users', { credentials: acme.ownerKey });
    expect(alias.body).toEqual(v1.body);
    expect(v1.body.items?.map((u) => u.email)).toContain('newbie@acme.test');
    expect((await call(api.url, 'GET', '/api/auth/users', { credentials: member })).status).toBe(403);
  });
});

describe('policy enforcement on data', () => {
  it('a policy can take data queries away from members', async () => {
    const query = (credentials: Credentials) =>
      call(api.url, 'POST', '/api/v1/data/query', { credentials, body: { sql: 'SELECT 1 AS one' } });
    expect((await query(member)).status).toBe(200);
    const policy = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: {
        name: 'no member queries',
        roles: ['member'],
        rules: [{ action: 'read', subject: 'Dataset', inverted: true, conditions: { operation: 'query' } }],
      },
    });
    expect(policy.status).toBe(201);
    const denied = await query(member);
    expect(denied.status).toBe(403);
    expect(denied.body.details).toMatchObject({ subject: 'Dataset', policy: 'no member queries' });
    expect((await call(api.url, 'GET', '/api/v1/data/tables', { credentials: member })).status).toBe(200);
    expect((await query(acme.ownerKey)).status).toBe(200);
    await call(api.url, 'DELETE', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
    });
  });
});

describe('policy enforcement on triggers', () => {
  it('a member denied running a workflow may not run it by webhook, webhook secret or schedule either', async () => {
    const prod = await publishedWorkflow('prod-hook', ['prod']);
    const policy = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: { name: 'no prod triggers', rules: [PROD_RULE] },
    });
    const secret = await call(api.url, 'POST', `/api/v1/workflows/${prod}/webhook-secret`, {
      credentials: member,
    });
    expect(secret.status).toBe(403);
    const schedule = await call(api.url, 'POST', '/api/v1/triggers/schedule', {
      credentials: member,
      body: { workflow_id: prod, cron: '0 3 * * *' },
    });
    expect(schedule.status).toBe(403);
    const delivery = await fetch(`${api.url}/api/v1/triggers/webhook/${prod}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', ...member.headers },
    });
    expect(delivery.status).toBe(403);
    const runs = await call(api.url, 'GET', `/api/v1/runs?workflow_id=${prod}`, {
      credentials: acme.ownerKey,
    });
    expect(runs.body.total).toBe(0);
    expect(
      (
        await call(api.url, 'POST', `/api/v1/workflows/${prod}/webhook-secret`, {
          credentials: acme.ownerKey,
        })
      ).status,
    ).toBe(200);
    await call(api.url, 'DELETE', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
    });
  });
});

describe('policies on documents', () => {
  it('keeps a member out of documents a policy marks confidential, everywhere the document is read', async () => {
    const open = await upload(api.url, acme.ownerKey, 'open.csv', 'a,b\n1,2\n', { team: 'sales' });
    const secret = await upload(api.url, acme.ownerKey, 'secret.csv', 'a,b\n1,2\n', { confidential: true });
    expect([open.status, secret.status]).toEqual([201, 201]);
    const policy = await call(api.url, 'POST', '/api/v1/policies', {
      credentials: acme.ownerKey,
      body: {
        name: 'confidential documents',
        roles: ['member'],
        rules: [
          {
            action: 'read',
            subject: 'Document',
            conditions: { 'metadata.confidential': true },
            inverted: true,
            reason: 'confidential documents are for owners',
          },
        ],
      },
    });
    expect(policy.status).toBe(201);
    const id = secret.body.id as string;
    for (const path of [`/documents/${id}`, `/documents/${id}/download`, `/documents/${id}/chain`]) {
      const denied = await call(api.url, 'GET', `/api/v1${path}`, { credentials: member });
      expect(denied.status).toBe(403);
      expect(denied.body.error_code).toBe('INSUFFICIENT_PERMISSIONS');
    }
    const job = await call(api.url, 'POST', '/api/v1/jobs', {
      credentials: member,
      body: { document_id: id },
    });
    expect(job.status).toBe(403);
    expect(
      (await call(api.url, 'GET', `/api/v1/documents/${open.body.id as string}`, { credentials: member }))
        .status,
    ).toBe(200);
    expect(
      (await call(api.url, 'GET', `/api/v1/documents/${id}`, { credentials: acme.ownerKey })).status,
    ).toBe(200);
    await call(api.url, 'DELETE', `/api/v1/policies/${policy.body.id as string}`, {
      credentials: acme.ownerKey,
    });
  });
});
