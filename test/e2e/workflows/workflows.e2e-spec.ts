import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EXAMPLE_DEFINITION } from '../../../src/modules/workflows/dto/workflow.dto';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let other: OnboardedTenant;
let viewer: Credentials;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
  const key = await call(api.url, 'POST', '/api/v1/api-keys', {
    credentials: acme.ownerKey,
    body: { name: 'v', role: 'viewer' },
  });
  viewer = apiKey(key.body.api_key as string);
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

const wf = (
  method: string,
  path: string,
  body?: unknown,
  credentials: Credentials = acme.ownerKey,
  headers?: Record<string, string>,
) => call(api.url, method, `/api/v1/workflows${path}`, { credentials, body, headers });

const valid = {
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } },
    {
      id: 'double',
      type: 'transform',
      position: { x: 0, y: 100 },
      data: { config: { expression: 'input.n * 2' } },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'double' }],
};

async function draft(definition: unknown = valid, name = 'flow') {
  const res = await wf('POST', '', { name, definition });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

describe('workflow definitions', () => {
  it('creates a draft at version 1 with defaults, idempotently', async () => {
    const headers = { 'x-idempotency-key': 'create-1' };
    const first = await wf('POST', '', { name: 'empty' }, acme.ownerKey, headers);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      tenant_id: 'acme',
      name: 'empty',
      description: '',
      version: 1,
      status: 'draft',
      definition: { nodes: [], edges: [] },
      input_schema: null,
      published_at: null,
    });
    const again = await wf('POST', '', { name: 'empty' }, acme.ownerKey, headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('saves a realistic editor graph as it is, with editor-only node properties', async () => {
    const withEditorProps = {
      ...EXAMPLE_DEFINITION,
      nodes: EXAMPLE_DEFINITION.nodes.map((n) => ({ ...n, width: 150, selected: false })),
    };
    const created = await draft(withEditorProps, 'orders');
    const fetched = await wf('GET', `/${created.id}`);
    expect(fetched.body.definition).toEqual(withEditorProps);
  });

  it('refuses a malformed definition (422) and one over 500 nodes (400)', async () => {
    const missing = await wf('POST', '', { name: 'x', definition: { nodes: [{ id: 'a' }] } });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toMatch(/definition must have required property 'edges'/);
    const nodes = Array.from({ length: 501 }, (_, i) => ({
      id: `n${i}`,
      type: 'delay',
      position: { x: 0, y: 0 },
      data: { config: {} },
    }));
    const big = await wf('POST', '', { name: 'x', definition: { nodes, edges: [] } });
    expect(big.status).toBe(400);
    expect(big.body.message).toBe('definition has more than 500 nodes');
  });

  it('lists with a status filter and pagination', async () => {
    const published = await draft(valid, 'to-publish');
    await wf('POST', `/${published.id}/publish`);
    const drafts = await wf('GET', '?status=draft&limit=2&page=1');
    expect(drafts.body.items).toHaveLength(2);
    expect(drafts.body.items?.every((w) => w.status === 'draft')).toBe(true);
    const all = await wf('GET', '?limit=100');
    expect(all.body.total).toBe((all.body.items ?? []).length);
    const onlyPublished = await wf('GET', '?status=published');
    expect(onlyPublished.body.items?.map((w) => w.id)).toEqual([published.id]);
    expect((await wf('GET', '?status=running')).status).toBe(400);
  });

  it('edits drafts only: PUT on a published workflow is 409 WORKFLOW_PUBLISHED', async () => {
    const created = await draft();
    const renamed = await wf('PUT', `/${created.id}`, { name: 'renamed', description: 'd' });
    expect(renamed.body).toMatchObject({ name: 'renamed', description: 'd', definition: valid });
    await wf('POST', `/${created.id}/publish`);
    const frozen = await wf('PUT', `/${created.id}`, { name: 'again' });
    expect(frozen.status).toBe(409);
    expect(frozen.body.error_code).toBe('WORKFLOW_PUBLISHED');
    expect((await wf('GET', `/${created.id}`)).body.name).toBe('renamed');
  });

  it('deletes drafts only: DELETE on a published workflow is 400', async () => {
    const created = await draft();
    expect((await wf('DELETE', `/${created.id}`)).status).toBe(204);
    expect((await wf('GET', `/${created.id}`)).status).toBe(404);
    const kept = await draft();
    await wf('POST', `/${kept.id}/publish`);
    const refused = await wf('DELETE', `/${kept.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error_code).toBe('VALIDATION_ERROR');
  });

  it('validates, and refuses to publish an invalid draft with its errors', async () => {
    const broken = await draft({
      nodes: [{ id: 'x', type: 'transform', position: { x: 0, y: 0 }, data: { config: {} } }],
      edges: [],
    });
    const report = await wf('POST', `/${broken.id}/validate`);
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
      valid: false,
      errors: [
        'workflow has no trigger node; exactly one is required',
        "node 'x' (transform): config must have required property 'expression'",
      ],
    });
    const publish = await wf('POST', `/${broken.id}/publish`);
    expect(publish.status).toBe(400);
    expect(publish.body.details).toEqual({ errors: report.body.errors });
    expect((await wf('GET', `/${broken.id}`)).body.status).toBe('draft');
  });

  it('publishes a valid draft once, freezing it', async () => {
    const created = await draft();
    expect((await wf('POST', `/${created.id}/validate`)).body).toEqual({ valid: true, errors: [] });
    const published = await wf('POST', `/${created.id}/publish`);
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', published_at: expect.any(String) });
    expect((await wf('POST', `/${created.id}/publish`)).status).toBe(409);
  });

  it('duplicates into a new draft at the next version of the family, same definition', async () => {
    const created = await draft(valid, 'family');
    await wf('POST', `/${created.id}/publish`);
    const v2 = await wf('POST', `/${created.id}/duplicate`);
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ name: 'family', version: 2, status: 'draft', definition: valid });
    expect(v2.body.id).not.toBe(created.id);
    const v3 = await wf('POST', `/${created.id}/duplicate`);
    expect(v3.body.version).toBe(3);
    const concurrent = await Promise.all([1, 2, 3].map(() => wf('POST', `/${created.id}/duplicate`)));
    expect(concurrent.map((r) => r.body.version).sort()).toEqual([4, 5, 6]);
  });

  it("serves the step catalog with every step type's config schema", async () => {
    const res = await call(api.url, 'GET', '/api/v1/catalog/steps', { credentials: viewer });
    const steps = res.body as unknown as Array<{
      type: string;
      config_schema: { type: string };
      available: boolean;
    }>;
    expect(steps.map((s) => s.type)).toEqual([
      'trigger.manual',
      'trigger.webhook',
      'trigger.schedule',
      'http.request',
      'transform',
      'condition',
      'delay',
      'approval',
      'sql.query',
      'pipeline.extract',
      'pipeline.focus',
      'pipeline.load',
      'pipeline.dq',
      'workflow.call',
    ]);
    expect(steps.every((s) => s.config_schema.type === 'object')).toBe(true);
    expect(steps.find((s) => s.type === 'sql.query')?.available).toBe(true);
  });

  it('lets viewers read but not write', async () => {
    const created = await draft();
    expect((await wf('GET', `/${created.id}`, undefined, viewer)).status).toBe(200);
    expect((await wf('POST', `/${created.id}/validate`, undefined, viewer)).status).toBe(200);
    expect((await wf('POST', '', { name: 'x' }, viewer)).status).toBe(403);
    expect((await wf('PUT', `/${created.id}`, { name: 'x' }, viewer)).status).toBe(403);
  });

  it("answers 404 on every endpoint for another tenant's workflow", async () => {
    const created = await draft();
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/${created.id}`],
      ['PUT', `/${created.id}`, { name: 'stolen' }],
      ['DELETE', `/${created.id}`],
      ['POST', `/${created.id}/validate`],
      ['POST', `/${created.id}/publish`],
      ['POST', `/${created.id}/duplicate`],
    ];
    for (const [method, path, body] of calls) {
      const res = await wf(method, path, body, other.ownerKey);
      expect([method, path, res.status, res.body.error_code]).toEqual([
        method,
        path,
        404,
        'WORKFLOW_NOT_FOUND',
      ]);
    }
    expect((await wf('GET', '', undefined, other.ownerKey)).body.total).toBe(0);
    expect((await wf('GET', `/${created.id}`)).body.name).toBe('flow');
  });

  it('audits every mutation', async () => {
    const created = await draft();
    await wf('PUT', `/${created.id}`, { name: 'audited' });
    await wf('POST', `/${created.id}/publish`);
    const copy = await wf('POST', `/${created.id}/duplicate`);
    const history = async (id: string) =>
      (
        await call(api.url, 'GET', `/api/v1/audit/events?resource_type=workflow&resource_id=${id}`, {
          credentials: acme.ownerKey,
        })
      ).body.items ?? [];
    expect((await history(created.id)).map((e) => e.event_type)).toEqual([
      'workflow.published',
      'workflow.updated',
      'workflow.created',
    ]);
    const [duplicated] = await history(copy.body.id as string);
    expect(duplicated).toMatchObject({
      event_type: 'workflow.duplicated',
      details: { source_id: created.id, version: 2 },
    });
  });
});
