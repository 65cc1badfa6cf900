import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { packArchive } from '../../../src/modules/packages/wpk-archive';
import type { WpkManifest } from '../../../src/modules/packages/wpk-manifest';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import { graph, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { craftArchive, foreignKey, wpkEntries } from './wpk-support';

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let other: OnboardedTenant;
let member: Credentials;
let admin: Credentials;
const release = foreignKey();
const stranger = foreignKey();

beforeAll(async () => {
  const own = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  backends = await createTestBackends({ SIGNING_KEY: own, WPK_TRUSTED_KEYS: release.publicPem });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
  const key = await call(api.url, 'POST', '/api/v1/api-keys', {
    credentials: acme.ownerKey,
    body: { name: 'ci', role: 'member' },
  });
  member = apiKey(key.body.api_key as string);
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

const wpk = (method: string, path: string, body?: unknown, credentials: Credentials = acme.ownerKey) =>
  call(api.url, method, `/api/v1/wpk${path}`, { credentials, body });

const doubler = graph(
  [
    { id: 'start', type: 'trigger.manual' },
    { id: 'double', type: 'transform', config: { expression: '{"doubled": input.n * 2}' } },
  ],
  ['start->double'],
);
const echo = graph(
  [
    { id: 'start', type: 'trigger.manual' },
    { id: 'echo', type: 'transform', config: { expression: '{"echo": input}' } },
  ],
  ['start->echo'],
);
/** A WPK manifest (graph() builds definitions of the SPEC's shape). */
const manifest = (name: string, version = '1.0.0', workflows?: unknown[]): WpkManifest => ({
  name,
  version,
  description: 'Order automation',
  workflows: (workflows ?? [
    { key: 'double', name: 'Doubler', definition: doubler, input_schema: { type: 'object' } },
    { key: 'echo', name: 'Echo', definition: echo },
  ]) as WpkManifest['workflows'],
});

/** The tenant's workflows that package `name` installed. */
async function installed(name: string, tenant: OnboardedTenant = acme) {
  const res = await call(api.url, 'GET', '/api/v1/workflows?limit=100', { credentials: tenant.ownerKey });
  return (res.body.items ?? []).filter((w) => w.package_name === name);
}

async function packed(name: string, version?: string, workflows?: unknown[]) {
  const res = await wpk('POST', '/pack', { wpk: manifest(name, version, workflows) }, member);
  expect(res.status).toBe(201);
  return res.body as { artifact_id: string; sha256: string; size: number };
}

/** An artifact packed elsewhere, imported with a signature. */
async function imported(bytes: Buffer, signature?: { signature: string; key_id?: string }) {
  return wpk('POST', '/import', { artifact: bytes.toString('base64'), ...signature }, member);
}

describe('pack, sign, deploy', () => {
  it('deploys every workflow of a signed package as published, records the package on them, and runs them', async () => {
    const artifact = await packed('orders');
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);

    const signed = await wpk('POST', '/sign', { artifact_id: artifact.artifact_id });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({
      signed: true,
      key_id: expect.stringMatching(/^ed25519:[0-9a-f]{32}$/),
    });
    const keys = await wpk('GET', '/keys');
    expect(keys.body.key_id).toBe(signed.body.key_id);

    const deployed = await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({
      sha256: artifact.sha256,
      already_deployed: false,
      key_id: signed.body.key_id,
    });
    const workflows = deployed.body.workflows as Array<{ key: string; workflow_id: string; version: number }>;
    expect(workflows.map((w) => [w.key, w.version])).toEqual([
      ['double', 1],
      ['echo', 1],
    ]);

    const rows = await installed('orders');
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'published',
        package_name: 'orders',
        package_version: '1.0.0',
        package_sha256: artifact.sha256,
      });
    }

    const doubleId = workflows.find((w) => w.key === 'double')?.workflow_id as string;
    const run = await startRun(api.url, acme, doubleId, { n: 21 });
    expect(run.status).toBe(201);
    const done = await waitForStatus(api.url, acme, run.body.id as string, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.context.steps.double.output).toEqual({ doubled: 42 });

    const listed = await wpk('GET', '/artifacts');
    expect(listed.body.items?.find((a) => a.id === artifact.artifact_id)).toMatchObject({
      name: 'orders',
      version: '1.0.0',
      sha256: artifact.sha256,
      size: artifact.size,
      signed: true,
      key_id: signed.body.key_id,
      deployed_at: expect.any(String),
    });
  });

  it('packs the same manifest to the same sha256 and the same artifact', async () => {
    const first = await packed('same');
    const second = await packed('same');
    expect(second.sha256).toBe(first.sha256);
    expect(second.artifact_id).toBe(first.artifact_id);
    const launchpad = await call(api.url, 'POST', '/api/wpk/pack', {
      credentials: member,
      body: { wpk: manifest('same') },
    });
    expect(launchpad.body.sha256).toBe(first.sha256);
  });

  it('deploys the same artifact twice as once; a new version of the package upgrades each workflow', async () => {
    const v1 = await packed('upgrades');
    await wpk('POST', '/sign', { artifact_id: v1.artifact_id });
    const first = await wpk('POST', '/deploy', { artifact_id: v1.artifact_id });
    const again = await call(api.url, 'POST', '/api/wpk/deploy', {
      credentials: acme.ownerKey,
      body: { artifact_id: v1.artifact_id },
    });
    expect(again.status).toBe(200);
    expect(again.body.already_deployed).toBe(true);
    expect(again.body.workflows).toEqual(
      (first.body.workflows as Array<Record<string, unknown>>).map((w) => ({ ...w, installed: false })),
    );
    expect(await installed('upgrades')).toHaveLength(2);

    const v2 = await packed('upgrades', '1.1.0', [
      { key: 'double', name: 'Doubler v2', definition: echo },
      { key: 'echo', name: 'Echo', definition: echo },
    ]);
    await wpk('POST', '/sign', { artifact_id: v2.artifact_id });
    const upgraded = await wpk('POST', '/deploy', { artifact_id: v2.artifact_id });
    expect(upgraded.status).toBe(200);
    expect((upgraded.body.workflows as Array<{ version: number }>).map((w) => w.version)).toEqual([2, 2]);
    const rows = await installed('upgrades');
    expect(rows).toHaveLength(4);
    const doubles = rows
      .filter((w) => w.package_key === 'double')
      .sort((a, b) => Number(a.version) - Number(b.version));
    expect(doubles.map((w) => [w.version, w.package_version, w.name])).toEqual([
      [1, '1.0.0', 'Doubler'],
      [2, '1.1.0', 'Doubler v2'],
    ]);
  });

  it('lets members pack but only owners sign and deploy; other tenants see nothing', async () => {
    const artifact = await packed('roles');
    expect((await wpk('POST', '/sign', { artifact_id: artifact.artifact_id }, member)).status).toBe(403);
    expect((await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id }, member)).status).toBe(403);
    const foreign = await wpk('POST', '/sign', { artifact_id: artifact.artifact_id }, other.ownerKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error_code).toBe('ARTIFACT_NOT_FOUND');
    expect((await wpk('GET', `/artifacts/${artifact.artifact_id}`, undefined, other.ownerKey)).status).toBe(
      404,
    );
  });
  it('serialises concurrent deploys: one version per workflow and package version, none twice', async () => {
    const v1 = await packed('racing');
    const v2 = await packed('racing', '2.0.0');
    for (const a of [v1, v2]) await wpk('POST', '/sign', { artifact_id: a.artifact_id });
    const results = await Promise.all(
      [v1, v1, v2, v2].map((a) => wpk('POST', '/deploy', { artifact_id: a.artifact_id })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const rows = await installed('racing');
    expect(rows).toHaveLength(4);
    for (const key of ['double', 'echo']) {
      const family = rows.filter((w) => w.package_key === key);
      expect(family.map((w) => w.version).sort()).toEqual([1, 2]);
      expect(family.map((w) => w.package_version).sort()).toEqual(['1.0.0', '2.0.0']);
    }
    expect(results.filter((r) => r.body.already_deployed === true)).toHaveLength(2);
  });

  it("keeps the owner's signature when the same bytes are imported with a signature that does not verify", async () => {
    const artifact = await packed('kept');
    await wpk('POST', '/sign', { artifact_id: artifact.artifact_id });
    // Packed elsewhere from the same manifest: the same bytes.
    const bytes = await packArchive(manifest('kept'));
    const forged = stranger.sign({ name: 'kept', version: '1.0.0', sha256: artifact.sha256 });
    const res = await imported(bytes, { signature: forged, key_id: stranger.keyId });
    expect(res.body).toMatchObject({ id: artifact.artifact_id, sha256: artifact.sha256 });
    expect(res.body.key_id).not.toBe(stranger.keyId);
    expect((await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id })).status).toBe(200);
  });
});

describe('refusals: nothing is installed', () => {
  it('refuses an unsigned package', async () => {
    const artifact = await packed('unsigned');
    const res = await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error_code: 'PACKAGE_VERIFICATION_FAILED',
      details: { reason: 'unsigned' },
    });
    expect(await installed('unsigned')).toHaveLength(0);
  });

  it('refuses a package whose stored bytes changed by one byte after signing', async () => {
    const artifact = await packed('tampered');
    await wpk('POST', '/sign', { artifact_id: artifact.artifact_id });
    const { body: meta } = await wpk('GET', `/artifacts/${artifact.artifact_id}`);
    const url = (method: 'GET' | 'PUT') =>
      call(api.url, 'POST', '/api/v1/storage/signed-url', {
        credentials: acme.ownerKey,
        body: { path: meta.object_path, method },
      }).then((res) => res.body.url as string);
    const bytes = Buffer.from(await (await fetch(await url('GET'))).arrayBuffer());
    expect(bytes.length).toBe(artifact.size);
    bytes[bytes.length - 20] ^= 0x01;
    expect((await fetch(await url('PUT'), { method: 'PUT', body: bytes })).status).toBeLessThan(300);

    const res = await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id });
    expect(res.status).toBe(400);
    expect(res.body.details).toMatchObject({ reason: 'digest_mismatch' });
    expect(await installed('tampered')).toHaveLength(0);
    // Nor does it get signed again in that state.
    expect((await wpk('POST', '/sign', { artifact_id: artifact.artifact_id })).body.details).toMatchObject({
      reason: 'digest_mismatch',
    });
  });

  it('deploys a package signed by a key in WPK_TRUSTED_KEYS, not one signed by an unlisted key', async () => {
    const bytes = await packArchive(manifest('elsewhere'));
    const sha256 = (await imported(bytes)).body.sha256 as string;
    const signable = { name: 'elsewhere', version: '1.0.0', sha256 };

    const trusted = await imported(bytes, { signature: release.sign(signable), key_id: release.keyId });
    expect(trusted.status).toBe(201);
    expect(trusted.body).toMatchObject({ signed: true, key_id: release.keyId });
    const ok = await wpk('POST', '/deploy', { artifact_id: trusted.body.id });
    expect(ok.status).toBe(200);
    expect(ok.body.key_id).toBe(release.keyId);
    expect(await installed('elsewhere')).toHaveLength(2);

    const cases = [
      { version: '1.0.1', key: stranger.keyId, signer: stranger, reason: 'untrusted_key' },
      { version: '1.0.2', signer: stranger, reason: 'untrusted_key' },
      // A trusted key's id on a signature it did not make.
      { version: '1.0.3', key: release.keyId, signer: stranger, reason: 'bad_signature' },
      // The trusted key's signature over other bytes (another version's digest).
      { version: '1.0.4', key: release.keyId, signer: release, reason: 'bad_signature', over: sha256 },
    ];
    for (const c of cases) {
      const bytes = await packArchive(manifest('stranger', c.version));
      const digest = (await imported(bytes)).body.sha256 as string;
      const signature = c.signer.sign({ name: 'stranger', version: c.version, sha256: c.over ?? digest });
      const art = await imported(bytes, { signature, ...(c.key ? { key_id: c.key } : {}) });
      const res = await wpk('POST', '/deploy', { artifact_id: art.body.id });
      expect(res.status).toBe(400);
      expect(res.body.details).toMatchObject({ reason: c.reason });
    }
    expect(await installed('stranger')).toHaveLength(0);
  });

  it('refuses an archive holding ../x or a symlink, and stores nothing', async () => {
    const good = wpkEntries('evil', '1.0.0', [{ key: 'a', name: 'A', definition: echo }]);
    for (const bad of [
      { path: '../x', data: 'owned' },
      { path: 'workflows/link.json', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' },
    ]) {
      const res = await imported(craftArchive([...good, bad]));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error_code: 'PACKAGE_VERIFICATION_FAILED',
        details: { reason: 'unsafe_archive' },
      });
    }
    const listed = await wpk('GET', '/artifacts?limit=100');
    expect(listed.body.items?.filter((a) => a.name === 'evil')).toHaveLength(0);
  });

  it('installs neither workflow when the second is invalid, at pack and at deploy', async () => {
    const broken = graph([{ id: 'x', type: 'transform', config: { expression: '1' } }], []);
    const workflows = [
      { key: 'good', name: 'Good', definition: echo },
      { key: 'second', name: 'Second', definition: broken },
    ];
    const pack = await wpk('POST', '/pack', { wpk: manifest('half', '1.0.0', workflows) }, member);
    expect(pack.status).toBe(400);
    expect(pack.body.error_code).toBe('VALIDATION_ERROR');
    const invalid = (pack.body.details as { workflows: Array<{ key: string; errors: string[] }> }).workflows;
    expect(invalid.map((w) => w.key)).toEqual(['second']);
    expect(invalid[0].errors.join(' ')).toContain('trigger');

    // Signed elsewhere (by a trusted key) and imported: deploy validates again and installs nothing.
    const bytes = await packArchive(manifest('half', '1.0.0', workflows));
    const first = await imported(bytes);
    const signable = { name: 'half', version: '1.0.0', sha256: first.body.sha256 as string };
    const art = await imported(bytes, { signature: release.sign(signable), key_id: release.keyId });
    const res = await wpk('POST', '/deploy', { artifact_id: art.body.id });
    expect(res.status).toBe(400);
    expect((res.body.details as { workflows: Array<{ key: string }> }).workflows.map((w) => w.key)).toEqual([
      'second',
    ]);
    expect(await installed('half')).toHaveLength(0);
  });

  it('answers bad input with the envelope, never a 500', async () => {
    const cases: Array<[string, unknown, number, string]> = [
      ['/pack', { wpk: 'not an object' }, 422, 'VALIDATION_ERROR'],
      ['/pack', {}, 422, 'VALIDATION_ERROR'],
      ['/sign', { artifact_id: 'nope' }, 400, 'VALIDATION_ERROR'],
      ['/deploy', { artifact_id: '00000000-0000-4000-8000-000000000000' }, 404, 'ARTIFACT_NOT_FOUND'],
      ['/import', { artifact: '%%%' }, 400, 'VALIDATION_ERROR'],
      ['/import', { artifact: Buffer.from('hello').toString('base64') }, 400, 'PACKAGE_VERIFICATION_FAILED'],
      [
        '/import',
        { artifact: craftArchive([{ path: 'manifest.json', data: '{' }]).toString('base64') },
        400,
        'PACKAGE_VERIFICATION_FAILED',
      ],
      [
        '/import',
        { artifact: craftArchive(wpkEntries('x', '1', [])).toString('base64') },
        422,
        'VALIDATION_ERROR',
      ],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await wpk('POST', path, body);
      expect([path, res.status, res.body.error_code]).toEqual([path, status, code]);
      expect(res.body.request_id).toEqual(expect.any(String));
    }
  });

  it('answers a manifest that is not one with 422 naming the fields', async () => {
    const res = await wpk(
      'POST',
      '/pack',
      { wpk: { name: 'Bad Name', version: '1.0', workflows: [] } },
      member,
    );
    expect(res.status).toBe(422);
    const errors = (res.body.details as { errors: string[] }).errors.join('\n');
    expect(errors).toContain('wpk/name');
    expect(errors).toContain('wpk/version');
    expect(errors).toContain('wpk/workflows');
  });
});

describe('audit and metrics', () => {
  it('records wpk.pack, wpk.sign and wpk.deploy with the artifact sha256', async () => {
    const artifact = await packed('audited');
    await wpk('POST', '/sign', { artifact_id: artifact.artifact_id });
    await wpk('POST', '/deploy', { artifact_id: artifact.artifact_id });
    const events = await call(
      api.url,
      'GET',
      `/api/v1/audit/events?resource_type=wpk_artifact&resource_id=${artifact.artifact_id}&limit=100`,
      { credentials: acme.ownerKey },
    );
    const types = new Map((events.body.items ?? []).map((e) => [e.event_type ?? e.action, e.sha256]));
    for (const type of ['wpk.pack', 'wpk.sign', 'wpk.deploy']) expect(types.get(type)).toBe(artifact.sha256);
  });

  it('counts packs, deploys by result and verification failures', async () => {
    const text = await (await fetch(`${api.url}/metrics`, { headers: admin.headers })).text();
    // Other labels (e.g. the process's) may sit beside the ones asserted.
    const count = (name: string, label = '') =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\d+)`, 'gm'))].some(
        ([, labels = '', value]) => labels.includes(label) && Number(value) > 0,
      );
    expect(count('wpk_pack_total')).toBe(true);
    expect(count('wpk_deploy_total', 'result="deployed"')).toBe(true);
    expect(count('wpk_deploy_total', 'result="refused"')).toBe(true);
    expect(count('wpk_deploy_total', 'result="invalid"')).toBe(true);
    expect(count('wpk_verify_failures_total', 'reason="unsigned"')).toBe(true);
    expect(count('wpk_verify_failures_total', 'reason="digest_mismatch"')).toBe(true);
  });
});
