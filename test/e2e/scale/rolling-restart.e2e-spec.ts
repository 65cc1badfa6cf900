import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, startRun } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';
import { watchRun } from '../../support/ws';

// What a rolling restart does to one API replica: SIGTERM runs the app's close(), as src/process.ts does.
let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
});

afterAll(async () => {
  await api?.close().catch(() => undefined);
  await backends?.cleanup();
});

/** A POST whose body arrives in two halves: the first now, the second when `finish` is called. */
function slowPost(path: string, body: unknown, headers: Record<string, string>) {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  const { port } = new URL(api.url);
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
  });
  const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
  });
  req.write(text.slice(0, half));
  return { response, finish: () => req.end(text.slice(half)) };
}

async function refused(): Promise<boolean> {
  try {
    await fetch(`${api.url}/health`);
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

describe('rolling restart of an API replica', () => {
  it('stops accepting, finishes the request in flight, and tells sockets to reconnect (1012)', async () => {
    const workflowId = await publish(
      api.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval' },
        ],
        ['start->ok'],
      ),
    );
    const runId = (await startRun(api.url, acme, workflowId)).body.id as string;
    const socket = await watchRun(api.url, acme, runId);
    await socket.next((frame) => frame.type === 'snapshot', 'the snapshot');
    const inFlight = slowPost(
      '/api/v1/workflows',
      { name: 'posted during shutdown', definition: graph([{ id: 'start', type: 'trigger.manual' }], []) },
      acme.ownerKey.headers,
    );
    // The request has reached the server (its headers are parsed) before shutdown begins.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const closing = api.close();
    expect(await socket.closeCode()).toEqual({ code: 1012, reason: 'server restarting: reconnect' });
    await waitFor(refused, 'the listener to stop accepting connections');

    inFlight.finish();
    const answered = await inFlight.response;
    expect(answered.status).toBe(201);
    expect(answered.body).toMatchObject({ name: 'posted during shutdown' });
    await closing;

    // It was stored: a fresh replica on the same database lists it.
    api = await startTestApi(backends.env);
    const listed = await fetch(`${api.url}/api/v1/workflows/${answered.body.id as string}`, {
      headers: acme.ownerKey.headers,
    });
    expect(listed.status).toBe(200);
  });
});
