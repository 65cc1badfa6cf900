import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Env } from '../../../src/core/config/config.loader';
import { LocalObjectStorage } from '../../../src/modules/storage/local-object-storage';
import { ObjectKey } from '../../../src/modules/storage/object-key';
import {
  ObjectNotFoundError,
  ObjectStorage,
  ObjectTooLargeError,
} from '../../../src/modules/storage/object-storage';
import {
  apiKey,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
  withTimeout,
} from '../../support/harness';
import {
  httpGet,
  httpPut,
  randomStream,
  type RawResponse,
  type RunningS3,
  S3RVER_KEY,
  sha256Of,
  sigV4QuerySignature,
  startS3rver,
} from './storage-support';

export type Backend = 'local' | 's3';

const MB = 1024 * 1024;
const UPLOAD_LIMIT_MB = 24;
const TS_NODE = require.resolve('ts-node/register/transpile-only');

/**
 * One contract, two stores: every behaviour a client can see through the API (and the ObjectStorage methods
 * later modules use) is asserted against the local filesystem store and against S3 (a real s3rver started
 * here). s3rver does not verify SigV4, so signature binding on S3 is asserted by recomputing the signature.
 */
export function storageContract(backend: Backend): void {
  let s3: RunningS3 | undefined;
  let storageDir: string;
  let storageEnv: Env;
  let backends: TestBackends;
  let api: RunningApi;
  let admin: Credentials;
  let acme: OnboardedTenant;
  let globex: OnboardedTenant;
  let viewer: Credentials;
  let member: Credentials;
  let store: ObjectStorage;

  beforeAll(async () => {
    storageDir = await mkdtemp(path.join(os.tmpdir(), 'conflux-storage-'));
    if (backend === 's3') s3 = await startS3rver();
    storageEnv = {
      STORAGE_DIR: storageDir,
      UPLOAD_LIMIT: `${UPLOAD_LIMIT_MB}mb`,
      ...(s3
        ? {
            S3_ENDPOINT: s3.endpoint,
            S3_BUCKET: 'conflux-test',
            S3_ACCESS_KEY: S3RVER_KEY,
            S3_SECRET_KEY: S3RVER_KEY,
          }
        : {}),
    };
    backends = await createTestBackends(storageEnv);
    await relaxRateLimits(backends);
    api = await startTestApi(backends.env);
    store = api.app.get(ObjectStorage);
    admin = await loginAdmin(api.url);
    acme = await onboardTenant(api.url, admin, 'acme');
    globex = await onboardTenant(api.url, admin, 'globex');
    viewer = await keyWithRole(acme, 'viewer');
    member = await keyWithRole(acme, 'member');
  });

  afterAll(async () => {
    await api?.close();
    await backends?.cleanup();
    await s3?.stop();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  const keyWithRole = async (tenant: OnboardedTenant, role: string): Promise<Credentials> => {
    const res = await call(api.url, 'POST', '/api/v1/api-keys', {
      credentials: tenant.ownerKey,
      body: { name: `${role}-key`, role },
    });
    expect(res.status).toBe(201);
    return apiKey(res.body.api_key as string);
  };

  const sign = (credentials: Credentials, body: Record<string, unknown>, prefix = '/api/v1') =>
    call(api.url, 'POST', `${prefix}/storage/signed-url`, { credentials, body });

  const signedUrl = async (
    credentials: Credentials,
    objectPath: string,
    method: 'GET' | 'PUT',
    expires?: number,
  ) => {
    const res = await sign(credentials, {
      path: objectPath,
      method,
      ...(expires ? { expires_in: expires } : {}),
    });
    expect([res.status, res.body.error_code]).toEqual([200, undefined]);
    return res.body.url as string;
  };

  const upload = async (
    credentials: Credentials,
    objectPath: string,
    data: Buffer,
    contentType = 'text/plain',
  ) => {
    const res = await httpPut(await signedUrl(credentials, objectPath, 'PUT'), data, { contentType });
    expect(res.status).toBe(200);
    return res;
  };

  const download = async (credentials: Credentials, objectPath: string) =>
    httpGet(await signedUrl(credentials, objectPath, 'GET'));

  const buckets = async (credentials: Credentials, prefix = '/api/v1') => {
    const res = await call(api.url, 'GET', `${prefix}/storage/buckets`, { credentials });
    expect(res.status).toBe(200);
    return res.body as {
      items: Array<{ name: string; prefix: string; object_count: number; bytes: number }>;
      total: number;
    };
  };

  const auditEvents = async (tenant: OnboardedTenant, resourceId: string) => {
    const res = await call(
      api.url,
      'GET',
      `/api/v1/audit/events?resource_type=storage_object&resource_id=${encodeURIComponent(resourceId)}`,
      { credentials: tenant.ownerKey },
    );
    return (res.body.items ?? []) as Array<{
      event_type: string;
      sha256: string | null;
      details: Record<string, unknown>;
    }>;
  };

  const stored = (tenantId: string, objectPath: string) => store.stat(ObjectKey.of(tenantId, objectPath));

  describe(`object storage (${backend})`, () => {
    it('reports its backend and reachability in /health', async () => {
      const res = await fetch(`${api.url}/health`);
      const body = (await res.json()) as {
        backends: Record<string, unknown>;
        checks: Record<string, unknown>;
      };
      expect(body.backends.storage).toBe(backend);
      expect(body.checks.storage).toMatchObject({ status: 'up', backend });
    });

    it('round-trips bytes through a signed PUT and a signed GET, keeping the content type', async () => {
      const data = Buffer.from('hello, object storage\n');
      const put = await upload(acme.ownerKey, 'docs/hello.txt', data, 'text/plain; charset=utf-8');
      if (backend === 'local')
        expect(put.json).toEqual({ path: 'docs/hello.txt', size: data.length, sha256: sha256Of(data) });

      const got = await download(acme.ownerKey, 'docs/hello.txt');
      expect(got).toMatchObject({ status: 200, size: data.length, sha256: sha256Of(data) });
      expect(got.headers['content-type']).toBe('text/plain; charset=utf-8');

      const events = await auditEvents(acme, 'docs/hello.txt');
      expect(events.map((e) => e.event_type)).toContain('storage.url_signed');
      if (backend === 'local') {
        // The local store saw the bytes: the write is audited with their hash.
        expect(events.find((e) => e.event_type === 'storage.object_written')).toMatchObject({
          sha256: sha256Of(data),
          details: { path: 'docs/hello.txt', size: data.length },
        });
      }
    });

    it('streams a 20 MB object up and down through signed URLs with identical bytes', async () => {
      const source = randomStream(20 * MB);
      const put = await httpPut(await signedUrl(member, 'big/twenty.bin', 'PUT'), source.stream, {
        length: 20 * MB,
        contentType: 'application/octet-stream',
      });
      expect(put.status).toBe(200);
      const sha256 = source.sha256();
      const got = await download(viewer, 'big/twenty.bin');
      expect(got).toMatchObject({ status: 200, size: 20 * MB, sha256 });
      expect(await stored('acme', 'big/twenty.bin')).toMatchObject({ size: 20 * MB });
    });

    it("lists the tenant's buckets with object counts and bytes, never another tenant's", async () => {
      await upload(globex.ownerKey, 'private/plan.txt', Buffer.from('globex only'));
      await upload(acme.ownerKey, 'listing/a.txt', Buffer.from('aaa'));
      await upload(acme.ownerKey, 'listing/nested/deeper/b.txt', Buffer.from('bbbbb'));
      const mine = await buckets(viewer);
      expect(mine.items.find((b) => b.name === 'listing')).toEqual({
        name: 'listing',
        prefix: 'acme/listing/',
        object_count: 2,
        bytes: 8,
      });
      expect(mine.items.map((b) => b.name)).not.toContain('private');
      expect(mine.total).toBe(mine.items.length);
      expect((await buckets(globex.ownerKey)).items).toEqual([
        { name: 'private', prefix: 'globex/private/', object_count: 1, bytes: 11 },
      ]);
    });

    it('deletes an object, audited with its SHA-256, and answers 404 once it is gone', async () => {
      // Written through the store (as documents and packages will be): the store knows its hash.
      const data = Buffer.from('to be deleted');
      const written = await store.put(ObjectKey.of('acme', 'trash/doomed.txt'), streamOf(data), {
        contentType: 'text/plain',
      });
      expect(written).toMatchObject({ size: data.length, sha256: sha256Of(data) });
      expect(await stored('acme', 'trash/doomed.txt')).toMatchObject({ sha256: sha256Of(data) });

      const res = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: member,
        body: { path: 'trash/doomed.txt' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        path: 'trash/doomed.txt',
        deleted: true,
        size: data.length,
        sha256: sha256Of(data),
      });
      expect(await stored('acme', 'trash/doomed.txt')).toBeUndefined();
      const deleted = (await auditEvents(acme, 'trash/doomed.txt')).find(
        (e) => e.event_type === 'storage.object_deleted',
      );
      expect(deleted).toMatchObject({
        sha256: sha256Of(data),
        details: { path: 'trash/doomed.txt', size: data.length },
      });

      const again = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: member,
        body: { path: 'trash/doomed.txt' },
      });
      expect([again.status, again.body.error_code]).toEqual([404, 'OBJECT_NOT_FOUND']);
      expect((await buckets(acme.ownerKey)).items.map((b) => b.name)).not.toContain('trash');
      const gone = await sign(acme.ownerKey, { path: 'trash/doomed.txt', method: 'GET' });
      expect([gone.status, gone.body.error_code]).toEqual([404, 'OBJECT_NOT_FOUND']);
    });

    it('gives later modules one ObjectStorage: put, get, stat, delete and usage, all or nothing', async () => {
      const key = ObjectKey.of('acme', 'module/nested/deep/file.bin');
      const data = randomBytes(3 * MB);
      expect(
        await store.put(key, streamOf(data), { contentType: 'application/x-conflux-test' }),
      ).toMatchObject({
        size: data.length,
        sha256: sha256Of(data),
      });
      const read = await store.get(key);
      expect(read).toMatchObject({ size: data.length, contentType: 'application/x-conflux-test' });
      expect(sha256Of(Buffer.concat(await read.stream.toArray()))).toBe(sha256Of(data));
      expect(await store.stat(key)).toMatchObject({ size: data.length, sha256: sha256Of(data) });
      expect(await store.usage('acme')).toContainEqual({ name: 'module', objects: 1, bytes: data.length });

      // Over the cap (a multipart upload on S3): refused, and the previous version stays whole.
      await store.put(key, streamOf(Buffer.from('small')));
      const tooBig = randomStream(10 * MB);
      await expect(store.put(key, tooBig.stream, { maxBytes: 9 * MB })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      expect(Buffer.concat(await (await store.get(key)).stream.toArray()).toString()).toBe('small');

      expect(await store.delete(key)).toBe(true);
      expect(await store.delete(key)).toBe(false);
      expect(await store.stat(key)).toBeUndefined();
      await expect(store.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect((await store.usage('acme')).map((b) => b.name)).not.toContain('module');
      expect(await store.usage('nobody')).toEqual([]);
    });

    it('lets viewers list and sign GET, and only members and up sign PUT and delete', async () => {
      await upload(member, 'roles/r.txt', Buffer.from('r'));
      expect((await buckets(viewer)).items.map((b) => b.name)).toContain('roles');
      expect((await sign(viewer, { path: 'roles/r.txt', method: 'GET' })).status).toBe(200);
      const put = await sign(viewer, { path: 'roles/r.txt', method: 'PUT' });
      expect([put.status, put.body.error_code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      const del = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: viewer,
        body: { path: 'roles/r.txt' },
      });
      expect([del.status, del.body.error_code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      expect(await stored('acme', 'roles/r.txt')).toBeDefined();
      expect((await call(api.url, 'GET', '/api/v1/storage/buckets')).status).toBe(401);

      // A platform admin names the tenant.
      const bare = await call(api.url, 'GET', '/api/v1/storage/buckets', { credentials: admin });
      expect(bare.status).toBe(400);
      const named = await call(api.url, 'GET', '/api/v1/storage/buckets?tenantId=acme', {
        credentials: admin,
      });
      expect((named.body.items as Array<{ name: string }>).map((b) => b.name)).toContain('roles');
      const foreign = await call(api.url, 'GET', '/api/v1/storage/buckets?tenantId=globex', {
        credentials: viewer,
      });
      expect([foreign.status, foreign.body.error_code]).toEqual([403, 'TENANT_MISMATCH']);
    });

    const TRAVERSAL: Array<[string, string]> = [
      ['../globex/private/plan.txt', "'.' or '..'"],
      ['docs/../../globex/private/plan.txt', "'.' or '..'"],
      ['docs/./hello.txt', "'.' or '..'"],
      ['..', "'.' or '..'"],
      ['/etc/passwd', 'relative'],
      ['/acme/docs/hello.txt', 'relative'],
      ['C:/Windows/win.ini', 'relative'],
      ['docs\\..\\..\\globex\\plan.txt', 'backslash'],
      ['docs/evil\u0000.txt', 'NUL'],
      ['docs/line\nbreak.txt', 'control'],
      ['docs//hello.txt', 'empty segments'],
      ['docs/', 'empty segments'],
      ['docs', '<bucket>/<path>'],
      ['', 'empty'],
      [`docs/${'a'.repeat(1100)}`, 'too long'],
      [`docs/${'é'.repeat(101)}`, 'at most 200 bytes'],
      ['docs/.conflux-tmp-1234', '.conflux-'],
      ['b@d!/x.txt', 'bucket'],
    ];

    it.each(TRAVERSAL)('refuses the path %j with 400 before any I/O', async (bad, reason) => {
      const before = await buckets(acme.ownerKey);
      for (const method of ['GET', 'PUT']) {
        const res = await sign(acme.ownerKey, { path: bad, method });
        expect([res.status, res.body.error_code]).toEqual([400, 'VALIDATION_ERROR']);
        expect(res.body.message).toContain(reason);
        expect(res.body.details).toMatchObject({ fields: [{ field: 'path' }] });
      }
      const del = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: acme.ownerKey,
        body: { path: bad },
      });
      expect([del.status, del.body.error_code]).toEqual([400, 'VALIDATION_ERROR']);
      expect(await buckets(acme.ownerKey)).toEqual(before);
      expect(await stored('globex', 'private/plan.txt')).toBeDefined();
    });

    it('answers a missing or mistyped field 422 and an out-of-range one 400, never a 500', async () => {
      const cases: Array<[Record<string, unknown>, number]> = [
        [{ method: 'GET' }, 422],
        [{ path: 42, method: 'GET' }, 422],
        [{ path: 'docs/hello.txt' }, 422],
        [{ path: 'docs/hello.txt', method: 'DELETE' }, 400],
        [{ path: 'docs/hello.txt', method: 'GET', expires_in: 901 }, 400],
        [{ path: 'docs/hello.txt', method: 'GET', expires_in: 0 }, 400],
        [{ path: 'docs/hello.txt', method: 'GET', expires_in: '60' }, 422],
        [{ path: 'docs/hello.txt', method: 'GET', expires_in: 1.5 }, 422],
        [{ path: 'docs/hello.txt', method: 'GET', bucket: 'docs' }, 422],
      ];
      for (const [body, status] of cases) {
        const res = await sign(acme.ownerKey, body);
        expect([JSON.stringify(body), res.status, res.body.error_code]).toEqual([
          JSON.stringify(body),
          status,
          'VALIDATION_ERROR',
        ]);
      }
      const del = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: acme.ownerKey,
        body: {},
      });
      expect(del.status).toBe(422);
    });

    it('signs for 5 minutes by default and at most 15', async () => {
      await upload(acme.ownerKey, 'expiry/e.txt', Buffer.from('e'));
      for (const [expiresIn, seconds] of [
        [undefined, 300],
        [900, 900],
        [1, 1],
      ] as const) {
        const before = Math.floor(Date.now() / 1000);
        const res = await sign(acme.ownerKey, {
          path: 'expiry/e.txt',
          method: 'get',
          ...(expiresIn ? { expires_in: expiresIn } : {}),
        });
        expect(res.body.method).toBe('GET');
        const at = Date.parse(res.body.expires_at as string) / 1000;
        expect(at - before).toBeGreaterThanOrEqual(seconds);
        expect(at - before).toBeLessThanOrEqual(seconds + 2);
        const url = new URL(res.body.url as string);
        if (backend === 's3') expect(url.searchParams.get('X-Amz-Expires')).toBe(String(seconds));
        else expect(Number(url.searchParams.get('X-Conflux-Expires'))).toBe(at);
      }
    });

    it('refuses an expired URL, for GET and for PUT, and writes nothing', async () => {
      await upload(acme.ownerKey, 'expiry/old.txt', Buffer.from('original'));
      const getUrl = await signedUrl(acme.ownerKey, 'expiry/old.txt', 'GET', 1);
      const putUrl = await signedUrl(acme.ownerKey, 'expiry/old.txt', 'PUT', 1);
      const newUrl = await signedUrl(acme.ownerKey, 'expiry/new.txt', 'PUT', 1);
      await new Promise((resolve) => setTimeout(resolve, 2200));
      const got = await httpGet(getUrl);
      expect(got.status).toBe(403);
      const put = await httpPut(putUrl, Buffer.from('overwritten'));
      expect(put.status).toBe(403);
      expect((await httpPut(newUrl, Buffer.from('new'))).status).toBe(403);
      if (backend === 'local') {
        expect(JSON.parse(got.text)).toMatchObject({ error_code: 'SIGNED_URL_EXPIRED' });
        expect(put.json).toMatchObject({ error_code: 'SIGNED_URL_EXPIRED', request_id: expect.any(String) });
      }
      expect((await download(acme.ownerKey, 'expiry/old.txt')).text).toBe('original');
      expect(await stored('acme', 'expiry/new.txt')).toBeUndefined();
    });

    it("keeps tenants apart: another tenant's object is not there, and a path cannot climb to it", async () => {
      await upload(globex.ownerKey, 'shared-name/report.txt', Buffer.from('globex report'));
      const get = await sign(acme.ownerKey, { path: 'shared-name/report.txt', method: 'GET' });
      expect([get.status, get.body.error_code]).toEqual([404, 'OBJECT_NOT_FOUND']);
      const del = await call(api.url, 'POST', '/api/v1/storage/object/delete', {
        credentials: acme.ownerKey,
        body: { path: 'shared-name/report.txt' },
      });
      expect(del.status).toBe(404);
      // Naming the other tenant as a bucket stays inside one's own tenant.
      await upload(
        acme.ownerKey,
        'globex/shared-name/report.txt',
        Buffer.from('acme, in a bucket called globex'),
      );
      expect((await download(globex.ownerKey, 'shared-name/report.txt')).text).toBe('globex report');
      expect(await stored('acme', 'globex/shared-name/report.txt')).toMatchObject({ size: 31 });
    });

    if (backend === 'local') {
      it('refuses a tampered URL, a GET URL used for PUT, and another tenant in the URL; nothing is written', async () => {
        await upload(acme.ownerKey, 'tamper/t.txt', Buffer.from('untouched'));
        const getUrl = await signedUrl(acme.ownerKey, 'tamper/t.txt', 'GET');
        const putUrl = await signedUrl(acme.ownerKey, 'tamper/t.txt', 'PUT');

        const swapped = await httpPut(getUrl, Buffer.from('swapped'));
        expect([swapped.status, swapped.json.error_code]).toEqual([403, 'SIGNED_URL_METHOD_MISMATCH']);
        const putAsGet = await httpGet(putUrl);
        expect([putAsGet.status, (JSON.parse(putAsGet.text) as { error_code?: string }).error_code]).toEqual([
          403,
          'SIGNED_URL_METHOD_MISMATCH',
        ]);

        const edits: Array<[string, (u: URL) => void]> = [
          [
            'signature',
            (u) =>
              u.searchParams.set(
                'X-Conflux-Signature',
                flip(u.searchParams.get('X-Conflux-Signature') ?? ''),
              ),
          ],
          // The GET URL turned into a PUT one by its parameter: the signature says GET.
          [
            'method',
            (u) =>
              (u.search = new URL(getUrl).search.replace('X-Conflux-Method=GET', 'X-Conflux-Method=PUT')),
          ],
          [
            'expiry',
            (u) =>
              u.searchParams.set(
                'X-Conflux-Expires',
                String(Number(u.searchParams.get('X-Conflux-Expires')) + 3600),
              ),
          ],
          ['actor', (u) => u.searchParams.set('X-Conflux-Actor', 'admin')],
          ['path', (u) => (u.pathname = u.pathname.replace('/t.txt', '/other.txt'))],
          ['tenant', (u) => (u.pathname = u.pathname.replace('/signed/acme/', '/signed/globex/'))],
          ['no signature', (u) => u.searchParams.delete('X-Conflux-Signature')],
        ];
        for (const [what, edit] of edits) {
          const url = new URL(putUrl);
          edit(url);
          const res = await httpPut(url.href, Buffer.from(`tampered ${what}`));
          expect([what, res.status, res.json.error_code]).toEqual([what, 403, 'SIGNATURE_INVALID']);
        }
        // Encoded dots, sent as they are (a URL parser would resolve them before they left).
        const signed = new URL(putUrl);
        const climbing = signed.pathname.replace('/tamper/t.txt', '/%2e%2e/%2e%2e/globex/private/plan.txt');
        const climbed = await rawPut(signed.origin, `${climbing}${signed.search}`, Buffer.from('climbing'));
        expect([climbed.status, climbed.json.error_code]).toEqual([400, 'VALIDATION_ERROR']);
        expect(climbed.json.message).toContain("'.' or '..'");

        expect((await download(acme.ownerKey, 'tamper/t.txt')).text).toBe('untouched');
        expect(await stored('acme', 'tamper/other.txt')).toBeUndefined();
        expect((await download(globex.ownerKey, 'private/plan.txt')).text).toBe('globex only');
        expect(await stored('globex', 'tamper/t.txt')).toBeUndefined();
      });

      it('caps uploads at UPLOAD_LIMIT with 413, declared or streamed, and keeps the previous version', async () => {
        await upload(acme.ownerKey, 'limits/capped.bin', Buffer.from('previous'));
        // Declared too long: answered before a byte of the body is read.
        const declared = await putDeclaring(
          await signedUrl(acme.ownerKey, 'limits/capped.bin', 'PUT'),
          (UPLOAD_LIMIT_MB + 1) * MB,
        );
        expect([declared.status, declared.json.error_code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
        expect(declared.headers.connection).toBe('close');

        // Chunked, so only counting the bytes finds out: the store stops at the limit and keeps nothing.
        const streamed = await fetch(await signedUrl(acme.ownerKey, 'limits/capped.bin', 'PUT'), {
          method: 'PUT',
          body: ReadableStreamOf(randomStream((UPLOAD_LIMIT_MB + 2) * MB).stream),
          duplex: 'half',
        }).then(
          async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }),
          () => undefined, // the server may close the connection before the client has finished sending
        );
        if (streamed) expect([streamed.status, streamed.body.error_code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
        expect((await download(acme.ownerKey, 'limits/capped.bin')).text).toBe('previous');
        await waitFor(
          async () => (await tempFiles(path.join(storageDir, 'acme', 'limits'))).length === 0,
          'temporary files to go',
        );
      });

      it('keeps nothing of an upload the client abandons midway', async () => {
        await upload(acme.ownerKey, 'limits/abandoned.bin', Buffer.from('previous'));
        const url = await signedUrl(acme.ownerKey, 'limits/abandoned.bin', 'PUT');
        const controller = new AbortController();
        const source = randomStream(16 * MB);
        let sent = 0;
        source.stream.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > 4 * MB) controller.abort();
        });
        await fetch(url, {
          method: 'PUT',
          body: ReadableStreamOf(source.stream),
          duplex: 'half',
          signal: controller.signal,
        }).catch(() => undefined);
        await waitFor(
          async () => (await tempFiles(path.join(storageDir, 'acme', 'limits'))).length === 0,
          'the upload to be dropped',
        );
        expect((await download(acme.ownerKey, 'limits/abandoned.bin')).text).toBe('previous');
      });

      it('stores JSON files of any size as bytes (the route does not parse bodies)', async () => {
        const rows = Array.from({ length: 150_000 }, (_, i) => ({ i, name: `row-${i}` }));
        const json = Buffer.from(JSON.stringify({ rows }));
        expect(json.length).toBeGreaterThan(2 * MB);
        const put = await httpPut(await signedUrl(acme.ownerKey, 'json/big.json', 'PUT'), json, {
          contentType: 'application/json',
        });
        expect([put.status, put.json.sha256]).toEqual([200, sha256Of(json)]);
        const broken = await httpPut(
          await signedUrl(acme.ownerKey, 'json/broken.json', 'PUT'),
          Buffer.from('{"not json'),
          {
            contentType: 'application/json',
          },
        );
        expect(broken.status).toBe(200);
        const got = await download(acme.ownerKey, 'json/big.json');
        expect([got.sha256, got.headers['content-type']]).toEqual([sha256Of(json), 'application/json']);
      });

      it('answers 409 for a path that would be both an object and a folder, and loses neither', async () => {
        await upload(acme.ownerKey, 'conflict/a', Buffer.from('object a'));
        const below = await httpPut(
          await signedUrl(acme.ownerKey, 'conflict/a/b.txt', 'PUT'),
          Buffer.from('x'),
        );
        expect([below.status, below.json.error_code]).toEqual([409, 'CONFLICT']);
        await upload(acme.ownerKey, 'conflict/dir/c.txt', Buffer.from('object c'));
        const over = await httpPut(await signedUrl(acme.ownerKey, 'conflict/dir', 'PUT'), Buffer.from('x'));
        expect([over.status, over.json.error_code]).toEqual([409, 'CONFLICT']);
        expect((await download(acme.ownerKey, 'conflict/a')).text).toBe('object a');
        expect((await download(acme.ownerKey, 'conflict/dir/c.txt')).text).toBe('object c');
        // Once the folder is empty again, the name is free for an object.
        await call(api.url, 'POST', '/api/v1/storage/object/delete', {
          credentials: acme.ownerKey,
          body: { path: 'conflict/dir/c.txt' },
        });
        await upload(acme.ownerKey, 'conflict/dir', Buffer.from('now an object'));
        expect((await download(acme.ownerKey, 'conflict/dir')).text).toBe('now an object');
      });

      it('serves downloads so the API origin never runs them as a page', async () => {
        await upload(acme.ownerKey, 'web/page.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
        const got = await download(acme.ownerKey, 'web/page.html');
        expect(got.headers['content-security-policy']).toContain('sandbox');
        expect(got.headers['x-content-type-options']).toBe('nosniff');
        expect(got.headers['cross-origin-resource-policy']).toBe('cross-origin');
        expect(got.headers.etag).toBe(`"${sha256Of('<script>alert(1)</script>')}"`);
      });
    } else {
      it('presigns URLs whose SigV4 signature binds the method, the key and the expiry', async () => {
        await upload(acme.ownerKey, 'sigv4/s.txt', Buffer.from('s'));
        const getUrl = await signedUrl(acme.ownerKey, 'sigv4/s.txt', 'GET', 120);
        const putUrl = await signedUrl(acme.ownerKey, 'sigv4/s.txt', 'PUT', 120);
        for (const [url, method, other] of [
          [getUrl, 'GET', 'PUT'],
          [putUrl, 'PUT', 'GET'],
        ] as const) {
          const parsed = new URL(url);
          expect(parsed.origin).toBe(s3?.endpoint);
          expect(parsed.pathname).toBe('/conflux-test/acme/sigv4/s.txt');
          expect(parsed.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
          expect(parsed.searchParams.get('X-Amz-Expires')).toBe('120');
          expect(parsed.searchParams.get('X-Amz-Credential')).toMatch(
            /^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/,
          );
          // No checksum of an empty body baked into an upload URL.
          expect([...parsed.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
          const signature = parsed.searchParams.get('X-Amz-Signature');
          // What a verifying store computes: equal for the signed request, different for any change to it.
          expect(sigV4QuerySignature(url, method, S3RVER_KEY)).toBe(signature);
          expect(sigV4QuerySignature(url, other, S3RVER_KEY)).not.toBe(signature);
          const tampered = [
            url.replace('/acme/', '/globex/'),
            url.replace('/s.txt', '/t.txt'),
            url.replace('X-Amz-Expires=120', 'X-Amz-Expires=604800'),
          ];
          for (const changed of tampered)
            expect(sigV4QuerySignature(changed, method, S3RVER_KEY)).not.toBe(signature);
        }
      });
    }

    it('leaves the previous version and no partial object when the writer is killed mid-write', async () => {
      await upload(acme.ownerKey, 'crash/victim.bin', Buffer.from('version 1'));
      const half = 12 * MB;
      const writer = spawnHalfWriter({ ...storageEnv, HALF_BYTES: String(half) }, 'acme', 'crash/victim.bin');
      try {
        await withTimeout(writer.half, 30_000, 'the writer to send half the object');
        if (backend === 'local') {
          // Half the bytes really are on disk, in a temporary file beside the object.
          const dir = path.join(storageDir, 'acme', 'crash');
          await waitFor(async () => {
            const sizes = await Promise.all((await tempFiles(dir)).map(async (f) => (await stat(f)).size));
            return sizes.some((size) => size >= half - 2 * MB);
          }, 'half the object on disk');
        } else {
          // A multipart part really reached the store (s3rver keeps parts under ._S3rver_uploads).
          await waitFor(
            async () => (await uploadedParts(s3?.directory ?? '')).length > 0,
            'a part of the upload in S3',
          );
        }
      } finally {
        writer.child.kill('SIGKILL');
        await writer.exited;
      }
      expect(writer.output.join('')).not.toContain('completed');
      expect(await stored('acme', 'crash/victim.bin')).toMatchObject({
        size: 9,
        // The local store hashed the signed upload; S3 took it straight from the client.
        ...(backend === 'local' ? { sha256: sha256Of('version 1') } : {}),
      });
      expect((await download(acme.ownerKey, 'crash/victim.bin')).text).toBe('version 1');
      expect((await buckets(acme.ownerKey)).items.find((b) => b.name === 'crash')).toMatchObject({
        object_count: 1,
        bytes: 9,
      });

      // A first write killed midway leaves no object at all.
      const first = spawnHalfWriter({ ...storageEnv, HALF_BYTES: String(MB) }, 'acme', 'crash/never.bin');
      await withTimeout(first.half, 30_000, 'the second writer');
      first.child.kill('SIGKILL');
      await first.exited;
      expect(await stored('acme', 'crash/never.bin')).toBeUndefined();
      expect((await sign(acme.ownerKey, { path: 'crash/never.bin', method: 'GET' })).status).toBe(404);

      if (store instanceof LocalObjectStorage) {
        const dir = path.join(storageDir, 'acme', 'crash');
        expect((await tempFiles(dir)).length).toBeGreaterThan(0);
        expect(await store.sweep(0)).toBeGreaterThan(0); // what the start-up sweep does to old leftovers
        expect(await tempFiles(dir)).toEqual([]);
        expect(await readFile(path.join(dir, 'victim.bin'), 'utf8')).toBe('version 1');
      }
    });

    it('answers the Launchpad aliases exactly as their /api/v1 twins, marked deprecated in Swagger', async () => {
      await upload(acme.ownerKey, 'launchpad/l.txt', Buffer.from('via the gateway path'));
      expect(await buckets(viewer, '/api')).toEqual(await buckets(viewer));
      const signed = await sign(viewer, { path: 'launchpad/l.txt', method: 'GET' }, '/api');
      expect(signed.status).toBe(200);
      expect((await httpGet(signed.body.url as string)).text).toBe('via the gateway path');
      const bad = await sign(viewer, { path: '../x', method: 'GET' }, '/api');
      expect([bad.status, bad.body.error_code]).toEqual([400, 'VALIDATION_ERROR']);
      expect((await call(api.url, 'GET', '/api/storage/buckets')).status).toBe(401);

      const doc = (await (await fetch(`${api.url}/docs-json`)).json()) as {
        paths: Record<string, Record<string, { deprecated?: boolean }>>;
      };
      expect(doc.paths['/api/storage/buckets'].get.deprecated).toBe(true);
      expect(doc.paths['/api/storage/signed-url'].post.deprecated).toBe(true);
      expect(doc.paths['/api/v1/storage/buckets'].get.deprecated).toBeUndefined();
    });
  });
}

function flip(signature: string): string {
  const last = signature.at(-1) === 'A' ? 'B' : 'A';
  return `${signature.slice(0, -1)}${last}`;
}

const streamOf = (data: Buffer) => Readable.from([data]);

const ReadableStreamOf = (stream: Readable) => Readable.toWeb(stream) as ReadableStream;

/** A PUT to a path exactly as written, not normalised. */
function rawPut(origin: string, rawPath: string, body: Buffer): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({
      hostname,
      port,
      path: rawPath,
      method: 'PUT',
      headers: { 'content-length': body.length },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.end(body);
  });
}

/** Sends the headers of an upload declaring `length` bytes and a first chunk, then waits for the answer. */
function putDeclaring(url: string, length: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': String(length) } });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        req.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.write(Buffer.alloc(64 * 1024));
  });
}

async function uploadedParts(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => /uploads.*\/\d+$/.test(entry));
}

async function tempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith('.conflux-tmp-')).map((name) => path.join(dir, name));
}

function spawnHalfWriter(
  env: Env,
  tenantId: string,
  objectPath: string,
): { child: ChildProcess; half: Promise<void>; exited: Promise<void>; output: string[] } {
  const child = spawn(
    process.execPath,
    ['-r', TS_NODE, path.join(__dirname, 'fixtures/half-writer.ts'), tenantId, objectPath],
    {
      env: { ...process.env, ...env, TS_NODE_PROJECT: path.join(__dirname, '../../../tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const half = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('half\n')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`writer exited early:\n${output.join('')}`)));
  });
  return { child, half, exited, output };
}
