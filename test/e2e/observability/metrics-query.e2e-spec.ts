import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
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

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

let backends: TestBackends;
let api: RunningApi;
const workers: WorkerProcess[] = [];
let admin: Credentials;
let acme: OnboardedTenant;
let globex: OnboardedTenant;

const query = (
  who: Credentials,
  body: Record<string, unknown>,
  path = '/api/v1/metrics/query',
  url = api.url,
) => call(url, 'POST', path, { credentials: who, body });

async function vector(who: Credentials, promql: string): Promise<Vector> {
  const res = await query(who, { query: promql });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'success', data: { resultType: 'vector' } });
  return (res.body.data as { result: Vector }).result;
}

const valueOf = (result: Vector) => (result.length === 1 ? Number(result[0].value[1]) : undefined);

async function runTimes(tenant: OnboardedTenant, times: number): Promise<void> {
  const id = await publish(
    api.url,
    tenant,
    graph(
      [
        { id: 'start', type: 'trigger.manual' },
        { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
      ],
      ['start->double'],
    ),
  );
  const runs = await Promise.all(
    Array.from({ length: times }, (_, n) => startRun(api.url, tenant, id, { n })),
  );
  for (const run of runs) {
    expect(run.status).toBe(201);
    expect(
      (await waitForStatus(api.url, tenant, run.body.id as string, ['completed', 'failed'])).status,
    ).toBe('completed');
  }
}

beforeAll(async () => {
  backends = await createTestBackends({ METRICS_PUSH_INTERVAL_MS: '300' });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  // One after the other: two ts-node boots at once are slow on a loaded machine.
  workers.push(await spawnWorker(backends.env));
  workers.push(await spawnWorker(backends.env));
  admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  globex = await onboardTenant(api.url, admin, 'globex');
  await runTimes(acme, 4);
  await runTimes(globex, 2);
  // Both workers have pushed since the last run finished: the fallback sees all six.
  await waitFor(
    async () => valueOf(await vector(admin, 'sum(conflux_runs_finished_total)')) === 6,
    'six finished runs in the pushed metrics',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await api?.close();
  await backends?.cleanup();
});

describe('metrics query: the local fallback over what every process pushes to Redis', () => {
  it('sums a counter across both worker processes, by tenant and status', async () => {
    expect(valueOf(await vector(admin, 'count(process_cpu_user_seconds_total{process="worker"})'))).toBe(2);
    const byTenant = await vector(
      admin,
      'sum by (tenant_id) (conflux_runs_finished_total{status="completed"})',
    );
    expect(Object.fromEntries(byTenant.map((s) => [s.metric.tenant_id, Number(s.value[1])]))).toEqual({
      acme: 4,
      globex: 2,
    });
    expect(
      valueOf(await vector(admin, 'max(conflux_runs_finished_total{tenant_id=~"glo.*"})')),
    ).toBeLessThanOrEqual(2);
    expect(valueOf(await vector(admin, 'sum(conflux_runs_finished_total{tenant_id!="acme"})'))).toBe(2);
  });

  it('answers rate() and increase() over the counter', async () => {
    expect(valueOf(await vector(admin, 'sum(increase(conflux_runs_finished_total[1m]))'))).toBe(6);
    expect(valueOf(await vector(admin, 'sum(rate(conflux_runs_finished_total[1m]))'))).toBeCloseTo(6 / 60, 6);
    const perTenant = await vector(admin, 'sum by (tenant_id) (increase(conflux_runs_finished_total[1m]))');
    expect(perTenant.map((s) => [s.metric.tenant_id, Number(s.value[1])]).sort()).toEqual([
      ['acme', 4],
      ['globex', 2],
    ]);
  });

  it('answers range queries as a matrix, and at a given time', async () => {
    const end = Date.now() / 1000;
    const res = await query(admin, {
      query: 'sum(conflux_runs_finished_total)',
      start: end - 20,
      end,
      step: '2s',
    });
    expect(res.status).toBe(200);
    const data = res.body.data as { resultType: string; result: Array<{ values: Array<[number, string]> }> };
    expect(data.resultType).toBe('matrix');
    const values = data.result[0].values.map(([, v]) => Number(v));
    expect(values.at(-1)).toBe(6);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    // Before anything was pushed there is nothing to answer.
    const before = await query(admin, {
      query: 'sum(conflux_runs_finished_total)',
      time: '2020-01-01T00:00:00Z',
    });
    expect((before.body.data as { result: unknown[] }).result).toEqual([]);
  });

  it('confines a tenant to its own series, whatever its matchers say', async () => {
    expect(valueOf(await vector(acme.ownerKey, 'sum(conflux_runs_finished_total)'))).toBe(4);
    expect(await vector(acme.ownerKey, 'conflux_runs_finished_total{tenant_id="globex"}')).toEqual([]);
    const byTenant = await vector(
      acme.ownerKey,
      'sum by (tenant_id) (rate(conflux_runs_finished_total[1m]))',
    );
    expect(byTenant.map((s) => s.metric.tenant_id)).toEqual(['acme']);
    // Process metrics carry no tenant: a tenant sees none of them.
    expect(await vector(globex.ownerKey, 'process_cpu_user_seconds_total')).toEqual([]);
    // The Launchpad alias answers the same.
    const alias = await query(
      globex.ownerKey,
      { query: 'sum(conflux_runs_finished_total)' },
      '/api/metrics/query',
    );
    expect(valueOf((alias.body.data as { result: Vector }).result)).toBe(2);
  });

  it('refuses what the fallback does not evaluate with a 400 naming what it does, and bad input', async () => {
    for (const promql of [
      'histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))',
      'conflux_runs_finished_total + 1',
      'topk(3, conflux_runs_finished_total)',
      'conflux_runs_finished_total[5m]',
    ]) {
      const res = await query(admin, { query: promql });
      expect(res.status).toBe(400);
      expect(res.body.error_code).toBe('VALIDATION_ERROR');
      expect((res.body.details as { supported: string }).supported).toMatch(/rate\(\)\/increase\(\)/);
    }
    const broken = await query(admin, { query: 'sum(rate(x[1m' });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/Not valid PromQL/);
    expect((await query(admin, {})).status).toBe(422);
    expect((await query(admin, { query: 'up', start: 1, end: 2 })).status).toBe(400);
    expect((await query(admin, { query: 'up', time: 'yesterday' })).status).toBe(400);
    expect((await query(admin, { query: 'up', start: 0, end: 1e9, step: 1 })).status).toBe(400);
  });
});

describe('metrics query: proxied to PROM_URL', () => {
  let prometheus: Server;
  let promUrl: string;
  const seen: URL[] = [];
  let proxied: RunningApi;

  beforeAll(async () => {
    prometheus = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://prometheus');
      seen.push(url);
      const promql = url.searchParams.get('query') ?? '';
      if (promql.startsWith('slow')) return void setTimeout(() => res.end('{}'), 2000);
      if (promql.startsWith('bad'))
        return void res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error: unexpected end' }),
          );
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { seen: promql }, value: [1, '42'] }] },
        }),
      );
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    promUrl = `http://127.0.0.1:${(prometheus.address() as { port: number }).port}`;
    proxied = await startTestApi({
      ...backends.env,
      PROM_URL: promUrl,
      OBSERVABILITY_UPSTREAM_TIMEOUT_MS: '300',
    });
  });

  afterAll(async () => {
    await proxied?.close();
    await new Promise((resolve) => prometheus?.close(resolve));
  });

  it('injects the tenant matcher into every selector, and caches the answer for 5 s', async () => {
    const promql =
      'sum(rate(conflux_runs_finished_total{status="completed"}[1m])) / sum(rate(conflux_runs_started_total[1m]))';
    const first = await query(acme.ownerKey, { query: promql }, '/api/v1/metrics/query', proxied.url);
    expect(first.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0].pathname).toBe('/api/v1/query');
    expect(seen[0].searchParams.get('query')).toBe(
      'sum(rate(conflux_runs_finished_total{tenant_id="acme",status="completed"}[1m])) / sum(rate(conflux_runs_started_total{tenant_id="acme"}[1m]))',
    );
    expect(first.body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { seen: seen[0].searchParams.get('query') }, value: [1, '42'] }],
      },
    });
    const second = await query(acme.ownerKey, { query: promql }, '/api/metrics/query', proxied.url);
    expect(second.body).toEqual(first.body);
    expect(seen).toHaveLength(1);
    // Another tenant's same query is its own (and confined to it).
    await query(globex.ownerKey, { query: promql }, '/api/v1/metrics/query', proxied.url);
    expect(seen).toHaveLength(2);
    expect(seen[1].searchParams.get('query')).toContain('tenant_id="globex"');
  });

  it('sends an admin query as written, range queries to query_range', async () => {
    const res = await query(admin, { query: 'up == 1 or vector(0)' }, '/api/v1/metrics/query', proxied.url);
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.searchParams.get('query')).toBe('up == 1 or vector(0)');
    await query(
      admin,
      { query: 'up', start: 1700000000, end: 1700000600, step: '60s' },
      '/api/v1/metrics/query',
      proxied.url,
    );
    expect(seen.at(-1)?.pathname).toBe('/api/v1/query_range');
    expect(Object.fromEntries(seen.at(-1)?.searchParams ?? [])).toEqual({
      query: 'up',
      start: '1700000000',
      end: '1700000600',
      step: '60',
    });
  });

  it("answers Prometheus's refusal as 400 and its silence as 503", async () => {
    const bad = await query(admin, { query: 'bad(' }, '/api/v1/metrics/query', proxied.url);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('parse error: unexpected end');
    const slow = await query(admin, { query: 'slow' }, '/api/v1/metrics/query', proxied.url);
    expect(slow.status).toBe(503);
    expect(slow.body.error_code).toBe('OBSERVABILITY_UNAVAILABLE');
    // A tenant's unparsable query never leaves Conflux.
    const before = seen.length;
    expect((await query(acme.ownerKey, { query: 'sum(' }, '/api/v1/metrics/query', proxied.url)).status).toBe(
      400,
    );
    expect(seen).toHaveLength(before);
  });
});
