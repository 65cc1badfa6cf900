import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  adminToken,
  call,
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
} from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
import { testRedisUrl } from '../../support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  spawnWorker,
  startTestApi,
  type TestBackends,
  waitFor,
  type WorkerProcess,
} from '../../support/harness';
import { keyOf, TestSocket } from '../../support/ws';

type Entry = {
  timestamp: string;
  level: string;
  msg: string;
  request_id: string | null;
  tenant_id: string | null;
  process: string;
} & Record<string, unknown>;

let backends: TestBackends;
let api: RunningApi;
let worker: WorkerProcess;
let admin: Credentials;
let acme: OnboardedTenant;
let globex: OnboardedTenant;
let acmeKey: string;

async function logs(
  who: Credentials,
  body: Record<string, unknown>,
  path = '/api/v1/logs/query',
  url = api.url,
) {
  const res = await call(url, 'POST', path, { credentials: who, body });
  expect(res.status).toBe(200);
  return res.body.entries as Entry[];
}

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await spawnWorker(backends.env);
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  globex = await onboardTenant(api.url, admin, 'globex');
  acmeKey = acme.ownerKey.headers['x-api-key'];
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
});

describe('logs query: the local store, across the API and worker processes', () => {
  let runId: string;

  beforeAll(async () => {
    const id = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
        ],
        ['start->double'],
      ),
    );
    const started = await startRun(api.url, acme, id, { n: 1 }, { 'x-request-id': 'abc' });
    expect(started.status).toBe(201);
    runId = started.body.id as string;
    await waitForStatus(api.url, acme, runId, ['completed']);
  });

  it('finds the lines of a request by its X-Request-ID, from the API and from the worker', async () => {
    const entries = await waitFor(async () => {
      const found = await logs(admin, { request_id: 'abc' });
      const processes = new Set(found.map((entry) => entry.process.split(':')[0]));
      return processes.has('api') && processes.has('worker') ? found : undefined;
    }, 'API and worker lines of request abc');
    for (const entry of entries) {
      expect(entry.request_id).toBe('abc');
      expect(entry.tenant_id).toBe('acme');
      expect(Date.parse(entry.timestamp)).not.toBeNaN();
    }
    const api = entries.find((entry) => entry.process.startsWith('api:'));
    expect(api).toMatchObject({ msg: 'request completed', req: { method: 'POST' }, res: { status: 201 } });
    const finished = entries.find((entry) => entry.process.startsWith('worker:'));
    expect(finished).toMatchObject({ msg: 'run finished', run_id: runId, level: 'info' });
    // Newest first.
    const times = entries.map((entry) => Date.parse(entry.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('shows a tenant only its own lines', async () => {
    expect(await logs(globex.ownerKey, { request_id: 'abc' })).toEqual([]);
    const own = await logs(acme.ownerKey, { limit: 1000 });
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((entry) => entry.tenant_id === 'acme')).toBe(true);
    await call(api.url, 'GET', '/api/v1/workflows', {
      credentials: globex.ownerKey,
      headers: { 'x-request-id': 'globex-only' },
    });
    await waitFor(
      async () => (await logs(admin, { request_id: 'globex-only' })).length > 0,
      'the globex request line',
    );
    expect(await logs(acme.ownerKey, { request_id: 'globex-only' })).toEqual([]);
    expect((await logs(globex.ownerKey, { request_id: 'globex-only' }, '/api/logs/query')).length).toBe(1);
  });

  it('filters by level, text and time, and caps the answer', async () => {
    const failing = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          {
            id: 'boom',
            type: 'transform',
            config: { expression: '$error("deliberate")' },
            retry: { max_attempts: 1, backoff_ms: 0 },
          },
        ],
        ['start->boom'],
      ),
    );
    const run = await startRun(api.url, acme, failing, {}, { 'x-request-id': 'failing-run' });
    await waitForStatus(api.url, acme, run.body.id as string, ['failed']);
    const warned = await waitFor(async () => {
      const found = await logs(admin, { level: 'warn', request_id: 'failing-run' });
      return found.some((entry) => entry.msg === 'run finished') ? found : undefined;
    }, 'the warn line of the failed run');
    expect(warned.every((entry) => ['warn', 'error', 'fatal'].includes(entry.level))).toBe(true);
    expect(await logs(admin, { level: 'error', request_id: 'failing-run', query: 'run finished' })).toEqual(
      [],
    );
    expect((await logs(admin, { query: 'RUN FINISHED', request_id: 'abc' })).map((e) => e.msg)).toEqual([
      'run finished',
    ]);
    expect(await logs(admin, { request_id: 'abc', until: '2020-01-01T00:00:00Z' })).toEqual([]);
    const later = (ms: number) => new Date(Date.now() + ms).toISOString();
    expect(await logs(admin, { request_id: 'abc', since: later(60_000), until: later(120_000) })).toEqual([]);
    expect(
      await logs(admin, { request_id: 'abc', since: '2020-01-01T00:00:00Z', until: later(0) }),
    ).not.toEqual([]);
    expect(await logs(admin, { limit: 2 })).toHaveLength(2);
    const backwards = await call(api.url, 'POST', '/api/v1/logs/query', {
      credentials: admin,
      body: { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' },
    });
    expect(backwards.status).toBe(400);
    const bad = await call(api.url, 'POST', '/api/v1/logs/query', {
      credentials: admin,
      body: { level: 'loud', limit: 0 },
    });
    expect(bad.status).toBe(400);
  });

  it('never stores a credential: API keys in headers or query strings, tokens', async () => {
    await call(api.url, 'GET', `/api/v1/workflows?api_key=${acmeKey}&access_token=${acmeKey}&page=1`, {
      credentials: acme.ownerKey,
      headers: { 'x-request-id': 'with-secrets', authorization: `Bearer ${acmeKey}` },
    });
    const [entry] = await waitFor(async () => {
      const found = await logs(admin, { request_id: 'with-secrets' });
      return found.length > 0 ? found : undefined;
    }, 'the request line');
    expect((entry.req as { url: string }).url).toBe(
      '/api/v1/workflows?api_key=%5Bredacted%5D&access_token=%5Bredacted%5D&page=1',
    );
    // Every stored line, as stored.
    const redis = new Redis(testRedisUrl());
    try {
      const stored = await redis.xrange(`${backends.queuePrefix}:obs:logs`, '-', '+');
      expect(stored.length).toBeGreaterThan(0);
      const raw = stored.map(([, fields]) => fields[1]).join('\n');
      expect(raw).not.toContain(acmeKey);
      expect(raw).not.toContain(acmeKey.slice(12));
      expect(raw).not.toContain(acme.ownerPassword);
    } finally {
      redis.disconnect();
    }
  });
});

describe('the live log tail: the logs topic over /ws/realtime', () => {
  const realtime = (query: string) => TestSocket.open(api.url, `/ws/realtime?${query}`);

  it('streams the lines every process stores from then on to a platform admin', async () => {
    const socket = await realtime(`tenant_id=acme&access_token=${encodeURIComponent(adminToken())}`);
    try {
      socket.send({ subscribe: 'logs' });
      await socket.next((f) => f.type === 'subscribed' && f.topic === 'logs', 'the logs subscription');
      const id = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
      const run = await startRun(api.url, acme, id, {}, { 'x-request-id': 'tailed' });
      expect(run.status).toBe(201);
      const line = (process: string, msg: string) => (f: { topic?: string; msg?: unknown }) => {
        const entry = f.topic === 'logs' ? (f.msg as Entry | undefined) : undefined;
        return entry?.request_id === 'tailed' && entry.process.startsWith(process) && entry.msg === msg;
      };
      const fromApi = await socket.next(
        line('api:', 'request completed'),
        "the API's line of the tailed request",
      );
      expect(fromApi.msg).toMatchObject({
        msg: 'request completed',
        tenant_id: 'acme',
        res: { status: 201 },
      });
      expect(Date.parse(fromApi.ts as string)).not.toBeNaN();
      const fromWorker = await socket.next(
        line('worker:', 'run finished'),
        "the worker's line of the tailed run",
      );
      expect(fromWorker.msg).toMatchObject({ msg: 'run finished', run_id: run.body.id });
      // Only what was stored after the subscription: the earlier request 'abc' never comes.
      expect(socket.frames.some((f) => (f.msg as Entry | undefined)?.request_id === 'abc')).toBe(false);

      // After unsubscribing, nothing more arrives.
      socket.send({ unsubscribe: 'logs' });
      await socket.next((f) => f.type === 'unsubscribed', 'the unsubscribe ack');
      const count = socket.frames.length;
      await call(api.url, 'GET', '/api/v1/workflows', {
        credentials: acme.ownerKey,
        headers: { 'x-request-id': 'after-tail' },
      });
      await waitFor(
        async () => (await logs(admin, { request_id: 'after-tail' })).length > 0,
        'the later request stored',
      );
      // The tail reads within 2 s of a line being stored.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(socket.frames.slice(count).filter((f) => f.topic === 'logs')).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('refuses the tail to tenant callers, even owners, and publishing to it to anyone', async () => {
    const socket = await realtime(`access_token=${encodeURIComponent(keyOf(acme))}`);
    try {
      socket.send({ subscribe: 'logs' });
      const refused = await socket.next((f) => f.type === 'error', 'the refusal');
      expect(refused).toMatchObject({ error_code: 'INSUFFICIENT_PERMISSIONS' });
      expect(refused.message).toContain("'admin' role");
      socket.send({ publish: { topic: 'logs', msg: { level: 'error', msg: 'forged' } } });
      const system = await socket.next((f) => f.type === 'error', 'the publish refusal', 15_000, 1);
      expect(system).toMatchObject({ error_code: 'INSUFFICIENT_PERMISSIONS' });
      expect(system.message).toContain('system topic');
    } finally {
      socket.close();
    }
  });
});

describe('logs query: LogQL through LOKI_URL', () => {
  let loki: Server;
  const seen: URL[] = [];
  let proxied: RunningApi;

  beforeAll(async () => {
    loki = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://loki');
      seen.push(url);
      const line = (fields: Record<string, unknown>) =>
        JSON.stringify({ level: 'warn', msg: 'from loki', ...fields });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'streams',
            result: [
              {
                stream: { service: 'conflux' },
                values: [
                  [
                    '1767225600000000000',
                    line({ tenant_id: 'acme', request_id: 'r1', process: 'worker:h:1' }),
                  ],
                  ['1767225601000000000', line({ tenant_id: 'globex', request_id: 'r2' })],
                  ['1767225602000000000', 'plain text line'],
                ],
              },
            ],
          },
        }),
      );
    });
    await new Promise<void>((resolve) => loki.listen(0, '127.0.0.1', resolve));
    const lokiUrl = `http://127.0.0.1:${(loki.address() as { port: number }).port}`;
    proxied = await startTestApi({ ...backends.env, LOKI_URL: lokiUrl });
  });

  afterAll(async () => {
    await proxied?.close();
    await new Promise((resolve) => loki?.close(resolve));
  });

  it("runs LogQL on Loki's query_range, confined to the tenant", async () => {
    const entries = await logs(
      acme.ownerKey,
      { query: '{service="conflux"} |= "loki"', level: 'warn', limit: 10 },
      '/api/v1/logs/query',
      proxied.url,
    );
    const url = seen.at(-1) as URL;
    expect(url.pathname).toBe('/loki/api/v1/query_range');
    expect(url.searchParams.get('query')).toBe(
      '{service="conflux"} |= "loki" | json | tenant_id="acme" | level=~"warn|error|fatal"',
    );
    expect(url.searchParams.get('direction')).toBe('backward');
    expect(url.searchParams.get('limit')).toBe('10');
    // The globex and untagged lines Loki sent back are not shown to acme.
    expect(entries).toEqual([
      {
        timestamp: '2026-01-01T00:00:00.000Z',
        level: 'warn',
        msg: 'from loki',
        request_id: 'r1',
        tenant_id: 'acme',
        process: 'worker:h:1',
      },
    ]);
  });

  it('gives an admin every line, newest first, and refuses a metric query', async () => {
    const entries = await logs(admin, {}, '/api/logs/query', proxied.url);
    expect(seen.at(-1)?.searchParams.get('query')).toBe('{service="conflux"}');
    expect(entries.map((entry) => entry.msg)).toEqual(['plain text line', 'from loki', 'from loki']);
    const metric = await call(proxied.url, 'POST', '/api/v1/logs/query', {
      credentials: acme.ownerKey,
      body: { query: 'sum(rate({service="conflux"}[1m]))' },
    });
    expect(metric.status).toBe(400);
    expect(metric.body.error_code).toBe('VALIDATION_ERROR');
  });
});
