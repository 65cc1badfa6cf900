/**
 * `node -r ts-node/register/transpile-only bench/assistant.ts`: the built-in SQL assistant over a tenant with a
 * FOCUS table and a CSV-shaped table (the e2e fixtures), against real Postgres and Redis. Sequential calls of
 * `POST /ai/sql/suggest` (10 and 50 suggestions, each EXPLAINed as the tenant role) and `POST /ai/query`, with
 * `POST /data/query` of one EXPLAIN as the floor it is built on: p50 and p99 in ms. Not a test.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { call } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import { startWithTables } from '../test/e2e/assistant/fixtures';

const CALLS = Number(process.env.BENCH_CALLS ?? 100);

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const setup = await startWithTables({ RATE_LIMIT_AI_PER_MINUTE: '1000000', LOG_LEVEL: 'silent' });
  const { api, acme } = setup;
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['data/query EXPLAIN (floor)', '/api/v1/data/query', { sql: 'EXPLAIN SELECT * FROM focus_billing' }],
    ['ai/sql/suggest limit 10', '/api/v1/ai/sql/suggest', {}],
    ['ai/sql/suggest limit 50', '/api/v1/ai/sql/suggest', { limit: 50 }],
    ['ai/query', '/api/v1/ai/query', { question: 'top 5 services by cost last month' }],
    ['ai/query execute', '/api/v1/ai/query', { question: 'total cost by service', execute: true }],
  ];
  try {
    for (const [name, path, body] of cases) {
      const times: number[] = [];
      for (let i = 0; i < CALLS; i += 1) {
        const started = performance.now();
        const res = await call(api.url, 'POST', path, { credentials: acme.ownerKey, body });
        times.push(performance.now() - started);
        if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      }
      times.sort((a, b) => a - b);
      const at = (p: number) =>
        times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
      console.log(
        `${name.padEnd(28)} p50 ${at(50).padStart(7)} ms   p99 ${at(99).padStart(7)} ms   (${CALLS} calls)`,
      );
    }
  } finally {
    await setup.stop();
    await stopBackends();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
