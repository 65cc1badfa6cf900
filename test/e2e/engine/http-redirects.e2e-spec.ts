import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

interface Seen {
  server: 'a' | 'b';
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
const seen: Seen[] = [];
let a: { server: Server; url: string };
let b: { server: Server; url: string };

/** Server `a` redirects as its path says; both record what reached them. */
async function recorder(name: 'a' | 'b', redirectTo: () => string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ server: name, method: req.method ?? '', path: req.url ?? '', body, headers: req.headers });
      const redirect = /^\/redirect\/(\d{3})(\/cross)?/.exec(req.url ?? '');
      if (redirect) {
        const base = redirect[2]
          ? redirectTo()
          : `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        res.writeHead(Number(redirect[1]), { location: `${base}/landing` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

beforeAll(async () => {
  b = await recorder('b', () => '');
  a = await recorder('a', () => b.url);
  backends = await createTestBackends({ HTTP_STEP_ALLOW_HOSTS: '127.0.0.1' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await backends?.cleanup();
  for (const { server } of [a, b]) await new Promise((resolve) => server?.close(resolve));
});

/** Runs one POST http.request step at `path` on server a and returns what reached the landing page. */
async function follow(path: string): Promise<Seen> {
  const id = await publish(
    api.url,
    acme,
    graph(
      [
        { id: 'start', type: 'trigger.manual' },
        {
          id: 'call',
          type: 'http.request',
          config: {
            method: 'POST',
            url: `${a.url}${path}`,
            headers: {
              authorization: 'Bearer s3cret',
              cookie: 'sid=1',
              'x-api-token': 'tok',
              accept: 'application/json',
            },
            body: { order: 42 },
          },
        },
      ],
      ['start->call'],
    ),
  );
  const run = (await startRun(api.url, acme, id)).body.id as string;
  expect((await waitForStatus(api.url, acme, run, ['completed', 'failed'])).status).toBe('completed');
  const landing = seen.filter((s) => s.path === '/landing').at(-1);
  if (!landing) throw new Error(`nothing reached /landing after ${path}`);
  seen.length = 0;
  return landing;
}

describe('http.request redirects', () => {
  it('turns a 303, and a 301/302 after a POST, into a GET without the body', async () => {
    for (const status of [303, 302, 301]) {
      const landing = await follow(`/redirect/${status}`);
      expect({ status, method: landing.method, body: landing.body }).toEqual({
        status,
        method: 'GET',
        body: '',
      });
      expect(landing.headers['content-type']).toBeUndefined();
    }
  });

  it('keeps method and body on a 307 or 308', async () => {
    for (const status of [307, 308]) {
      const landing = await follow(`/redirect/${status}`);
      expect({ status, method: landing.method, body: JSON.parse(landing.body) as unknown }).toEqual({
        status,
        method: 'POST',
        body: { order: 42 },
      });
      // Same origin: the step's headers go along.
      expect(landing.headers.authorization).toBe('Bearer s3cret');
    }
  });

  it("sends none of the step's credentials to another origin", async () => {
    const landing = await follow('/redirect/307/cross');
    expect(landing.server).toBe('b');
    expect(landing.headers.authorization).toBeUndefined();
    expect(landing.headers.cookie).toBeUndefined();
    expect(landing.headers['x-api-token']).toBeUndefined();
    expect(landing.headers.accept).toBe('application/json');
    expect(landing.headers['idempotency-key']).toBeDefined();
  });
});
