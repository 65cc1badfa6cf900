import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { QUEUE_NAMES } from '../../../src/core/queue/job-catalog';
import {
  type Credentials,
  loginAdmin,
  onboardTenant,
  type OnboardedTenant,
  signToken,
} from '../../support/auth';
import { testRedisUrl } from '../../support/backends';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

let backends: TestBackends;
let api: RunningApi;
let admin: Credentials;
let acme: OnboardedTenant;

const board = (suffix: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  fetch(`${api.url}/admin/queues${suffix}`, { redirect: 'manual', ...init });

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
}, 120_000);

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

describe('queue dashboard (Bull Board) at /admin/queues', () => {
  it('serves the page and its API to a platform admin, over every queue', async () => {
    const page = await board('', { headers: admin.headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('__UI_CONFIG__');
    const queues = await board('/api/queues', { headers: admin.headers });
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(names.sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('refuses everyone else: 401 without or with a bad credential, 403 for a tenant owner', async () => {
    const anonymous = await board('');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error_code: 'AUTHENTICATION_REQUIRED' });
    expect((await board('/api/queues', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const forged = signToken({}, { subject: 'admin' }, 'not-the-secret-0123456789-abcdefghijklmnop');
    expect((await board('/api/queues', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    const owner = await board('/api/queues', { headers: acme.ownerKey.headers });
    expect(owner.status).toBe(403);
    expect(await owner.json()).toMatchObject({ error_code: 'INSUFFICIENT_PERMISSIONS' });
    expect(
      (await board('/api/queues', { headers: { cookie: 'conflux_queues_session=forged' } })).status,
    ).toBe(401);
  });

  it('opens a browser session from ?access_token=, held in a short-lived HttpOnly cookie', async () => {
    const token = admin.headers.authorization.replace('Bearer ', '');
    const opened = await board(`?access_token=${encodeURIComponent(token)}`);
    expect(opened.status).toBe(200);
    const cookie = opened.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^conflux_queues_session=[^;]+;/);
    expect(cookie).toMatch(/Max-Age=900/);
    expect(cookie).toMatch(/Path=\/admin\/queues/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0];
    expect((await board('/api/queues', { headers: { cookie: session } })).status).toBe(200);
  });

  it('cleans jobs of a queue', async () => {
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue('maintenance', { connection, prefix: backends.queuePrefix });
    try {
      await queue.add('board-test', {}, { delay: 3_600_000, timestamp: Date.now() - 60_000 });
      const delayed = async () => {
        const res = await board('/api/queues?activeQueue=maintenance&status=delayed', {
          headers: admin.headers,
        });
        const body = (await res.json()) as {
          queues: Array<{ name: string; counts: Record<string, number> }>;
        };
        return body.queues.find((q) => q.name === 'maintenance')?.counts.delayed;
      };
      expect(await delayed()).toBe(1);
      const cleaned = await board('/api/queues/maintenance/clean/delayed', {
        method: 'PUT',
        headers: admin.headers,
      });
      expect(cleaned.status).toBe(200);
      expect(await delayed()).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe('health backends and /metrics labels', () => {
  it('reports which metrics and logs backends answer queries', async () => {
    const local = (await (await fetch(`${api.url}/health`)).json()) as { backends: Record<string, string> };
    expect(local.backends).toMatchObject({ metrics: 'local', logs: 'local', storage: 'local' });
    const remote = await startTestApi({
      ...backends.env,
      PROM_URL: 'http://127.0.0.1:9',
      LOKI_URL: 'http://127.0.0.1:9',
    });
    try {
      const body = (await (await fetch(`${remote.url}/health`)).json()) as {
        backends: Record<string, string>;
      };
      expect(body.backends).toMatchObject({ metrics: 'prometheus', logs: 'loki' });
    } finally {
      await remote.close();
    }
  });

  it('labels queues by name on /metrics, and pushed series by process for the local fallback', async () => {
    const text = await (await fetch(`${api.url}/metrics`, { headers: admin.headers })).text();
    const series = (name: string, labels: Record<string, string>) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(`${name}{`))
        .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));
    for (const queue of QUEUE_NAMES)
      expect(series('conflux_queue_jobs', { queue, state: 'waiting' })).toHaveLength(1);
    const board = { route: '/admin/queues/api/queues', status: '200' };
    expect(series('http_request_duration_seconds_count', board).length).toBeGreaterThan(0);
    const res = await fetch(`${api.url}/api/v1/metrics/query`, {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'count by (process) (process_cpu_user_seconds_total)' }),
    });
    const result = ((await res.json()) as { data: { result: Array<{ metric: Record<string, string> }> } })
      .data.result;
    expect(result.map((r) => r.metric)).toEqual([{ process: 'api' }]);
  });
});

describe('deployment files', () => {
  const root = path.join(__dirname, '../../..');
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

  it('docker-compose.yml has Prometheus, Grafana and Loki behind the observability profile', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { profiles?: string[] }>;
    };
    for (const service of ['prometheus', 'grafana', 'loki'])
      expect(compose.services[service]?.profiles).toEqual(['observability']);
    // The default stack starts none of them.
    expect(compose.services.api.profiles).toBeUndefined();
  });

  it('Prometheus scrapes the API and the workers with a bearer token', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{
        job_name: string;
        authorization?: { credentials_file?: string };
        static_configs: unknown[];
      }>;
    };
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]));
    expect(Object.keys(jobs)).toEqual(expect.arrayContaining(['conflux-api', 'conflux-worker']));
    expect(jobs['conflux-api'].authorization?.credentials_file).toBeTruthy();
  });

  it('the Grafana dashboard charts runs, steps, queues, HTTP latency, WebSockets and extraction', () => {
    const dashboard = JSON.parse(read('deploy/grafana/conflux.json')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets?.map((t) => t.expr) ?? []).join('\n');
    for (const metric of [
      'conflux_runs_finished_total',
      'conflux_step_duration_seconds',
      'conflux_queue_jobs',
      'http_request_duration_seconds',
      'conflux_ws_connections',
      'conflux_extraction',
    ])
      expect(exprs).toContain(metric);
  });
});
