/**
 * `npm run bench:data`: POST /data/query against the same statement on a raw `pg` pool logged in as the same
 * tenant role, interleaved in one run (real Postgres and Redis). A 100-row SELECT at 1 and at 20 concurrent
 * clients: queries per second, p50 and p99, and the API's throughput as a share of raw. Then the memory a
 * 10-million-row query costs the API process (it returns capped). Not a test.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import type { Histogram } from 'prom-client';
import { MetricsService } from '../src/core/metrics/metrics.service';
import { datasetRolePrefix } from '../src/modules/data/dataset.repository';
import { loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import { createTestBackends, relaxRateLimits, startTestApi } from '../test/support/harness';

const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,20').split(',').map(Number);
/** The sandbox's connections per tenant (DATA_POOL_SIZE); the raw pool gets as many. */
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 4);
const SQL = 'SELECT id, name, amount, created_at FROM bench_rows ORDER BY id LIMIT 100';

interface Figures {
  qps: number;
  p50: number;
  p99: number;
}

/**
 * The load generator, in a worker thread so that the API's event loop serves requests and nothing else: `total`
 * calls, `concurrency` at a time, over HTTP to the API or straight to Postgres on a raw pool as the tenant role.
 */
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { Pool } = require('pg');
const raw = new Pool({ connectionString: workerData.rawUrl, max: workerData.poolSize });
const body = JSON.stringify({ sql: workerData.sql });
const headers = { ...workerData.headers, 'content-type': 'application/json' };
const calls = {
  async api() {
    const res = await fetch(workerData.apiUrl + '/api/v1/data/query', { method: 'POST', headers, body });
    const json = await res.json();
    if (res.status !== 200 || json.row_count !== 100) throw new Error('API: HTTP ' + res.status);
  },
  async floor() {
    const res = await fetch(workerData.apiUrl + '/api/v1/auth/me', { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error('floor: HTTP ' + res.status);
  },
  async raw() {
    const result = await raw.query({ text: workerData.sql, rowMode: 'array', queryMode: 'extended' });
    if (result.rows.length !== 100) throw new Error('raw: wrong row count');
  },
};
const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
parentPort.on('message', async ({ variant, total, concurrency }) => {
  if (variant === 'end') { await raw.end(); parentPort.close(); return; }
  const once = calls[variant];
  const latencies = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < total) {
      issued += 1;
      const t = performance.now();
      await once();
      latencies.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  parentPort.postMessage({ qps: total / elapsed, p50: at(latencies, 50), p99: at(latencies, 99) });
});
`;

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends({
    DATA_POOL_SIZE: String(POOL_SIZE),
    DATA_MAX_CONNECTIONS: '50',
  });
  const api = await startTestApi(backends.env);
  const rawUrl = Object.assign(new URL(backends.databaseUrl), {
    username: `${datasetRolePrefix(backends.databaseName)}bench_ro`,
    password: '',
  }).href;
  let load: Worker | undefined;
  try {
    await relaxRateLimits(backends);
    const tenant = await onboardTenant(api.url, await loginAdmin(api.url), 'bench');
    const db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
    await db.query(`CREATE TABLE tenant_bench.bench_rows (id int PRIMARY KEY, name text, amount numeric(12,2),
                      created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`INSERT INTO tenant_bench.bench_rows (id, name, amount)
                    SELECT g, 'row ' || g, g * 1.25 FROM generate_series(1, 1000) g`);
    await db.query('ANALYZE tenant_bench.bench_rows');
    await db.end();

    const headers = { ...tenant.ownerKey.headers, 'content-type': 'application/json' };
    const worker = new Worker(LOAD, {
      eval: true,
      workerData: {
        rawUrl,
        poolSize: POOL_SIZE,
        sql: SQL,
        apiUrl: api.url,
        headers: tenant.ownerKey.headers,
      },
    });
    load = worker;
    let failed: (error: Error) => void = (error) => console.error(error);
    worker.on('error', (error: Error) => failed(error));
    const run = (variant: 'api' | 'raw' | 'floor', total: number, concurrency: number) =>
      new Promise<Figures>((resolve, reject) => {
        failed = reject;
        worker.once('message', resolve);
        worker.postMessage({ variant, total, concurrency });
      });
    await run('api', 200, 4);
    await run('raw', 200, 4);
    const metrics = api.app.get(MetricsService);
    const serverSide = async () => {
      const sum = async (name: string, labels: Record<string, string>) => {
        const metric = metrics.registry.getSingleMetric(name) as Histogram | undefined;
        const values = (await metric?.get())?.values ?? [];
        const pick = (suffix: string) =>
          values
            .filter((v) => v.metricName === `${name}${suffix}`)
            .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
            .reduce((a, v) => a + v.value, 0);
        return { sum: pick('_sum'), count: pick('_count') };
      };
      return {
        http: await sum('http_request_duration_seconds', { route: '/api/v1/data/query' }),
        query: await sum('conflux_data_query_duration_seconds', { outcome: 'ok' }),
      };
    };
    console.log(
      `\n${QUERIES} queries per variant and concurrency, "${SQL}" (100 rows),` +
        ` ${POOL_SIZE} connections each (DATA_POOL_SIZE), every API query parsed, capped and audited\n`,
    );
    console.log('clients  variant   queries/s   p50 ms   p99 ms   vs raw');
    const breakdown: string[] = [];
    for (const concurrency of CONCURRENCIES) {
      // Halves interleaved (raw, API, raw, API), so drift on a shared machine hits both alike.
      const halves: Record<'raw' | 'api' | 'floor', Figures[]> = { raw: [], api: [], floor: [] };
      const before = await serverSide();
      for (let round = 0; round < 2; round += 1) {
        halves.raw.push(await run('raw', QUERIES / 2, concurrency));
        halves.api.push(await run('api', QUERIES / 2, concurrency));
      }
      const after = await serverSide();
      for (let round = 0; round < 2; round += 1)
        halves.floor.push(await run('floor', QUERIES / 2, concurrency));
      const mean = (k: 'http' | 'query') =>
        ((after[k].sum - before[k].sum) / Math.max(after[k].count - before[k].count, 1)) * 1000;
      breakdown.push(
        `${concurrency} client(s): in the API a request takes ${mean('http').toFixed(2)} ms on average, ` +
          `of which the query (parse, connection, round trip, caps) ${mean('query').toFixed(2)} ms; the rest is ` +
          `HTTP, authentication, rate limiting, validation, the audit commit and JSON`,
      );
      const merged = (xs: Figures[]): Figures => ({
        qps: xs.reduce((a, x) => a + x.qps, 0) / xs.length,
        p50: xs.reduce((a, x) => a + x.p50, 0) / xs.length,
        p99: Math.max(...xs.map((x) => x.p99)),
      });
      const r = merged(halves.raw);
      const a = merged(halves.api);
      for (const [name, f] of [
        ['raw pg', r],
        ['API', a],
        ['floor', merged(halves.floor)],
      ] as const) {
        console.log(
          [
            String(concurrency).padStart(7),
            name.padEnd(8),
            f.qps.toFixed(0).padStart(11),
            f.p50.toFixed(2).padStart(8),
            f.p99.toFixed(2).padStart(8),
            name === 'raw pg' ? '' : `${(f.qps / r.qps).toFixed(2)}x`.padStart(9),
          ].join(' '),
        );
      }
    }

    console.log(
      `\n"floor" is GET /api/v1/auth/me with the same API key: HTTP, authentication and rate limiting alone, the` +
        ` least any authenticated request costs here.\n${breakdown.join('\n')}`,
    );

    // Memory: a 10-million-row result through the API, capped at the byte limit; RSS sampled while it runs.
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    const res = await fetch(`${api.url}/api/v1/data/query`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        sql: "SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 10000000) g",
        limit: 10_000,
      }),
    });
    const big = (await res.json()) as { row_count: number; truncated: boolean };
    clearInterval(sampler);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(
      `\n10,000,000-row SELECT (1 KB rows, limit 10000): HTTP ${res.status}, ${big.row_count} rows, truncated ` +
        `${big.truncated}, ${(performance.now() - started).toFixed(0)} ms; process RSS ${mb(before)} MB before, ` +
        `${mb(peak)} MB peak (+${mb(peak - before)} MB, API and this client together)`,
    );
  } finally {
    load?.postMessage({ variant: 'end' });
    await api.close();
    await backends.cleanup();
    await stopBackends();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
