import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { adminToken } from '../support/auth';
import { testDatabaseServerUrl } from '../support/backends';
import {
  createTestBackends,
  type RunningApi,
  spawnWorker,
  startTestApi,
  type TestBackends,
  type WorkerProcess,
  waitFor,
} from '../support/harness';

let backends: TestBackends;
let api: RunningApi;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

interface Health {
  status: string;
  checks: Record<string, { status: string; error_code?: string }>;
  backends: Record<string, string>;
  error_code?: string;
  request_id?: string;
  checked_at?: string;
}

const health = async () => {
  const res = await fetch(`${api.url}/health`);
  return { status: res.status, body: (await res.json()) as Health };
};

describe('/health and /metrics', () => {
  it('is degraded (200) without a worker and healthy once one consumes the queues', async () => {
    const before = await health();
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      status: 'degraded',
      env: 'LIVE',
      service: 'conflux',
      environment: 'test',
      checks: { database: { status: 'up' }, redis: { status: 'up' }, workers: { status: 'down' } },
      backends: { database: 'external', storage: 'local', metrics: 'local', logs: 'local', ai: 'builtin' },
    });

    let worker: WorkerProcess | undefined;
    try {
      worker = await spawnWorker(backends.env);
      // BullMQ registers a worker's connections asynchronously; the report follows within moments.
      const after = await waitFor(
        async () => {
          const report = await health();
          return report.body.status === 'healthy' ? report : undefined;
        },
        'the worker to be reported',
        10_000,
      );
      expect(after.status).toBe(200);
      expect(after.body.checks.workers).toMatchObject({ status: 'up', count: 1 });
    } finally {
      await worker?.stop();
    }
  });

  it('answers probes from its last round of checks; ?deep=1 checks at once', async () => {
    const deep = async () => (await fetch(`${api.url}/health?deep=1`)).json() as Promise<Health>;
    const fresh = await deep();
    const probe = await health();
    expect(probe.body.checked_at).toBe(fresh.checked_at);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await deep();
    expect(Date.parse(again.checked_at ?? '')).toBeGreaterThan(Date.parse(fresh.checked_at ?? ''));
    expect((await health()).body.checked_at).toBe(again.checked_at);
  });

  it('exposes Prometheus metrics: request histogram by route and status, queue depth gauges', async () => {
    await fetch(`${api.url}/api/v1/not-a-route`);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${adminToken()}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/,
    );
    expect(text).toContain('conflux_queue_jobs{queue="maintenance",state="waiting"} 0');
    expect(text).toContain('process_resident_memory_bytes');
  });

  // Last: it takes this file's database away.
  it('answers 503 unhealthy with DB_UNAVAILABLE when the database is unreachable', async () => {
    const admin = new Client({ connectionString: testDatabaseServerUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE "${backends.databaseName}" WITH (FORCE)`);
    await admin.end();

    // The cached view notices within HEALTH_CACHE_MS (1 s) plus a round of checks (2 s timeout at most).
    const res = await waitFor(
      async () => {
        const probe = await fetch(`${api.url}/health`);
        return probe.status === 503 ? probe : undefined;
      },
      'the cached view to notice',
      4_000,
    );
    const body = (await res.json()) as Health;
    expect(body).toMatchObject({
      status: 'unhealthy',
      error_code: 'DB_UNAVAILABLE',
      checks: { database: { status: 'down', error_code: 'DB_UNAVAILABLE' }, redis: { status: 'up' } },
    });
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
    expect((await fetch(`${api.url}/health?deep=1`)).status).toBe(503);
  });
});
