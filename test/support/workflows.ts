/** Workflow and run helpers shared by the e2e suites and the benches (no jest imports: benches load this). */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { call, type OnboardedTenant } from './auth';
import { waitFor } from './harness';

type Node = {
  id: string;
  type: string;
  config?: Record<string, unknown>;
  retry?: { max_attempts: number; backoff_ms: number };
  timeout_ms?: number;
};

/** A definition from a compact list of nodes and `source->target[:handle]` edges. */
export function graph(nodes: Node[], edges: string[]) {
  return {
    nodes: nodes.map((n, i) => ({
      id: n.id,
      type: n.type,
      position: { x: 0, y: i * 100 },
      data: {
        config: n.config ?? {},
        ...(n.retry ? { retry: n.retry } : {}),
        ...(n.timeout_ms ? { timeout_ms: n.timeout_ms } : {}),
      },
    })),
    edges: edges.map((e, i) => {
      const [pair, handle] = e.split(':');
      const [source, target] = pair.split('->');
      return { id: `e${i}`, source, target, ...(handle ? { sourceHandle: handle } : {}) };
    }),
  };
}

/** A manual trigger, then `length` http.request steps `h1`, `h2`, ... in a chain, each POSTing to `url`. */
export function httpChain(url: string, length: number) {
  const steps = Array.from({ length }, (_, i) => `h${i + 1}`);
  return graph(
    [
      { id: 'start', type: 'trigger.manual' },
      ...steps.map((id) => ({ id, type: 'http.request', config: { method: 'POST', url } })),
    ],
    steps.map((id, i) => `${i === 0 ? 'start' : steps[i - 1]}->${id}`),
  );
}

/** An endpoint on loopback answering every request `{"ok":true}`, after `delayMs`. */
export async function okServer(delayMs = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An http.request step GETting `<base>/<id>`. */
export const httpGet = (base: string, id: string) => ({
  id,
  type: 'http.request',
  config: { method: 'GET', url: `${base}/${id}` },
});

/** A manual trigger fanning out to `width` http.request steps `n0`, `n1`, ..., each GETting `<base>/<id>`. */
export function httpFanOut(base: string, width: number) {
  const ids = Array.from({ length: width }, (_, i) => `n${i}`);
  return graph(
    [{ id: 'start', type: 'trigger.manual' }, ...ids.map((id) => httpGet(base, id))],
    ids.map((id) => `start->${id}`),
  );
}

/** A manual trigger, then one http.request step `one` GETting `<base>/one`. */
export const httpOne = (base: string) =>
  graph([{ id: 'start', type: 'trigger.manual' }, httpGet(base, 'one')], ['start->one']);

/**
 * Starts a run of an httpFanOut workflow `width` wide and waits until all its steps are queued; `open()` counts
 * the fan-out's steps not completed yet.
 */
export async function startFanOut(url: string, tenant: OnboardedTenant, workflowId: string, width: number) {
  const runId = (await startRun(url, tenant, workflowId)).body.id as string;
  const open = async () =>
    (await stepsOf(url, tenant, runId)).filter((s) => s.step_id !== 'start' && s.status !== 'completed')
      .length;
  await waitFor(async () => (await stepsOf(url, tenant, runId)).length > width, 'the fan-out to queue');
  return { runId, open };
}

export async function publish(
  url: string,
  tenant: OnboardedTenant,
  definition: unknown,
  inputSchema?: unknown,
): Promise<string> {
  const created = await call(url, 'POST', '/api/v1/workflows', {
    credentials: tenant.ownerKey,
    body: { name: 'engine-test', definition, ...(inputSchema ? { input_schema: inputSchema } : {}) },
  });
  const published = await call(url, 'POST', `/api/v1/workflows/${created.body.id as string}/publish`, {
    credentials: tenant.ownerKey,
  });
  if (published.status !== 200) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
  return created.body.id as string;
}

export async function startRun(
  url: string,
  tenant: OnboardedTenant,
  workflowId: string,
  input: unknown = {},
  headers: Record<string, string> = {},
) {
  const res = await call(url, 'POST', `/api/v1/workflows/${workflowId}/run`, {
    credentials: tenant.ownerKey,
    body: { input },
    headers,
  });
  return res;
}

export type Run = {
  id: string;
  status: string;
  context: { steps: Record<string, { status: string; output?: unknown }> };
  error: string | null;
};

export async function runOf(url: string, tenant: OnboardedTenant, runId: string): Promise<Run> {
  return (await call(url, 'GET', `/api/v1/runs/${runId}`, { credentials: tenant.ownerKey }))
    .body as unknown as Run;
}

export async function waitForStatus(
  url: string,
  tenant: OnboardedTenant,
  runId: string,
  statuses: string[],
  timeoutMs = 20_000,
): Promise<Run> {
  return waitFor(
    async () => {
      const run = await runOf(url, tenant, runId);
      return statuses.includes(run.status) ? run : undefined;
    },
    `run ${runId} to be ${statuses.join('/')}`,
    timeoutMs,
    100,
  );
}

export async function eventsOf(url: string, tenant: OnboardedTenant, runId: string) {
  return (await call(url, 'GET', `/api/v1/runs/${runId}/events`, { credentials: tenant.ownerKey }))
    .body as unknown as Array<{
    seq: number;
    event_type: string;
    step_id: string | null;
    data: Record<string, unknown>;
  }>;
}

export async function stepsOf(url: string, tenant: OnboardedTenant, runId: string) {
  return (await call(url, 'GET', `/api/v1/runs/${runId}/steps`, { credentials: tenant.ownerKey }))
    .body as unknown as Array<{
    step_id: string;
    status: string;
    attempt: number;
    output: unknown;
  }>;
}

export interface Recorded {
  path: string;
  idempotencyKey: string | undefined;
  at: number;
}

/**
 * A local HTTP server for http.request steps: records every request, and answers by path (`/ok`,
 * `/fail-until/<n>` fails the first n calls of a key, `/slow/<ms>`, `/status/<code>`, `/toggle` fails until flipped).
 */
export async function recordingServer(): Promise<{
  url: string;
  requests: Recorded[];
  healthy: { value: boolean };
  close(): Promise<void>;
}> {
  const requests: Recorded[] = [];
  const counts = new Map<string, number>();
  const healthy = { value: false };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    requests.push({ path, idempotencyKey, at: Date.now() });
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const failUntil = /^\/fail-until\/(\d+)/.exec(path);
    if (failUntil) {
      const key = `${path}|${idempotencyKey ?? ''}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return n <= Number(failUntil[1]) ? send(503, { attempt: n }) : send(200, { attempt: n });
    }
    const slow = /^\/slow\/(\d+)/.exec(path);
    if (slow) return void setTimeout(() => send(200, { slept: Number(slow[1]) }), Number(slow[1]));
    const status = /^\/status\/(\d+)/.exec(path);
    if (status) return send(Number(status[1]), { status: Number(status[1]) });
    if (path.startsWith('/toggle')) return healthy.value ? send(200, { ok: true }) : send(500, { ok: false });
    send(200, { ok: true, path });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    healthy,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
