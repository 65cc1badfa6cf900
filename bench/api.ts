/**
 * `npm run bench:api`: the API's request path against a floor server started here, in the same run: plain
 * Express + pg + ioredis doing what each route must at least do (one rate-limit EVAL, the API-key lookup, the
 * route's queries; writes also take the audit chain's lock and row, and with `X-Idempotency-Key` the key's lock
 * and record). Conflux runs as a process of its own (as in production), the floor here; they alternate, at 1 and
 * 10 connections; then the reads again while a worker process keeps 50 runs in flight; then the API process's RSS
 * before and after a long load. autocannon runs in a worker thread so the client does not share the floor's event
 * loop. Numbers, not a test.
 *
 * BENCH_SECONDS (8) per run, BENCH_ROUNDS (1) alternations, BENCH_RSS_SECONDS (60; 0 skips), BENCH_ONLY
 * (comma-separated scenario names), BENCH_API_ENTRY (default dist/main.js, the compiled API `npm run bench:api`
 * builds first, as production runs it; src/main.ts runs it through ts-node), BENCH_API_NODE_ARGS (more Node flags
 * for the API process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { pgTransaction } from './pg-transaction';
import { API_NODE_FLAGS } from '../src/node-flags';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../test/support/auth';
import { prepareTestBackends, testRedisUrl } from '../test/support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  spawnWorker,
  type TestBackends,
  waitFor,
} from '../test/support/harness';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const RSS_SECONDS = Number(process.env.BENCH_RSS_SECONDS ?? 60);
const ONLY = process.env.BENCH_ONLY?.split(',');
const ENGINE_PHASE = process.env.BENCH_ENGINE !== '0';
const API_ENTRY = path.resolve(__dirname, '..', process.env.BENCH_API_ENTRY ?? 'dist/main.js');
const IN_FLIGHT = 50;
const WORKFLOWS = 5;

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: (ids: { runId: string }) => string;
  idempotent?: boolean;
  /** Writes go to a tenant of their own, so the read tenant keeps its five workflows. */
  body?: string;
}

const CREATE_BODY = JSON.stringify({
  name: 'bench',
  definition: {
    nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } }],
    edges: [],
  },
});

const SCENARIOS: Scenario[] = [
  { name: 'GET /workflows', method: 'GET', path: () => '/api/v1/workflows' },
  { name: 'GET /runs/{id}', method: 'GET', path: ({ runId }) => `/api/v1/runs/${runId}` },
  { name: 'POST /workflows', method: 'POST', path: () => '/api/v1/workflows', body: CREATE_BODY },
  {
    name: 'POST /workflows idem',
    method: 'POST',
    path: () => '/api/v1/workflows',
    body: CREATE_BODY,
    idempotent: true,
  },
  { name: 'GET /health', method: 'GET', path: () => '/health' },
];

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  refused: number;
}

async function load(
  url: string,
  scenario: Scenario,
  key: string,
  runId: string,
  connections: number,
  seconds: number,
): Promise<Figures> {
  const result = await autocannon({
    url: `${url}${scenario.path({ runId })}`,
    method: scenario.method,
    connections,
    duration: seconds,
    workers: 1,
    idReplacement: scenario.idempotent === true,
    headers: {
      'x-api-key': key,
      ...(scenario.body ? { 'content-type': 'application/json' } : {}),
      ...(scenario.idempotent ? { 'x-idempotency-key': 'bench-[<id>]' } : {}),
    },
    ...(scenario.body ? { body: scenario.body } : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    refused: result.non2xx + result.errors + result.timeouts,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const combine = (runs: Figures[]): Figures => ({
  rps: mean(runs.map((r) => r.rps)),
  p50: mean(runs.map((r) => r.p50)),
  p99: mean(runs.map((r) => r.p99)),
  refused: runs.reduce((a, r) => a + r.refused, 0),
});

const cell = (f: Figures) =>
  `${f.rps.toFixed(0).padStart(7)} ${f.p50.toFixed(1).padStart(6)} ${f.p99.toFixed(1).padStart(6)}` +
  (f.refused ? ` (${f.refused} non-2xx)` : '');

/** Conflux and the floor, alternating (the order flips every round so drift hits both alike). */
async function compare(
  label: string,
  scenario: Scenario,
  targets: { conflux: Target; floor: Target },
  connections: number,
): Promise<void> {
  const runs: { conflux: Figures[]; floor: Figures[] } = { conflux: [], floor: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? (['conflux', 'floor'] as const) : (['floor', 'conflux'] as const);
    for (const side of order) {
      const t = targets[side];
      const key = scenario.body ? t.writerKey : t.key;
      runs[side].push(await load(t.url, scenario, key, t.runId, connections, SECONDS));
    }
  }
  const conflux = combine(runs.conflux);
  const floor = combine(runs.floor);
  console.log(
    `${label.padEnd(34)} ${String(connections).padStart(3)}  ${cell(conflux)}  |${cell(floor)}  | ${(conflux.rps / floor.rps).toFixed(2)}x`,
  );
}

interface Target {
  url: string;
  key: string;
  writerKey: string;
  runId: string;
}

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends({
    RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000',
    LOG_LEVEL: 'info',
    WORKER_CONCURRENCY: String(IN_FLIGHT),
  });
  await relaxRateLimits(backends);
  const api = await spawnApi(backends.env);
  const floor = await startFloor(backends);
  try {
    const admin = await loginAdmin(api.url);
    const tenant = (id: string) => onboardTenant(api.url, admin, id);
    const writerKey = async (id: string) => (await tenant(id)).ownerKey.headers['x-api-key'];
    const conflux = { ...(await seed(api.url, await tenant('bench'))), writerKey: await writerKey('benchw') };
    const floorTarget = {
      ...(await seed(api.url, await tenant('floor'))),
      writerKey: await writerKey('floorw'),
    };
    const targets = {
      conflux: { url: api.url, ...conflux },
      floor: { url: floor.url, ...floorTarget },
    };
    const selected = SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.name));

    // Warm-up: JIT, pools and caches on both sides.
    for (const side of [targets.conflux, targets.floor])
      await load(side.url, SCENARIOS[0], side.key, side.runId, 10, 2);

    console.log(
      `\n${SECONDS} s per run, ${ROUNDS} round(s), autocannon in a worker thread; ${WORKFLOWS} workflows in each tenant`,
    );
    console.log(
      `${'scenario'.padEnd(34)} con  ${'conflux req/s   p50    p99'.padEnd(23)}|${'  floor req/s   p50    p99'.padEnd(24)}| ratio`,
    );
    for (const connections of [1, 10])
      for (const scenario of selected) await compare(scenario.name, scenario, targets, connections);

    if (ENGINE_PHASE) await underEngineLoad(api.url, backends, selected, targets);

    if (RSS_SECONDS > 0) {
      // Idle: the API between loads (its heap already sized by the runs above). Sampled every 10 s meanwhile,
      // so growth that keeps going (a leak) is told from a heap that grows once and stays.
      const idle = api.rss();
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(api.rss()), 10_000);
      const loaded = await load(api.url, SCENARIOS[0], conflux.key, conflux.runId, 10, RSS_SECONDS);
      clearInterval(sampler);
      const after = api.rss();
      console.log(
        `\nRSS of the API process: idle ${mb(idle)} MB; during ${RSS_SECONDS} s of GET /workflows ` +
          `(${loaded.rps.toFixed(0)} req/s) ${samples.map(mb).join(', ')} MB; after ${mb(after)} MB: ` +
          `+${mb(after - idle)} MB`,
      );
    }
  } finally {
    await floor.close();
    await api.close();
    await backends.cleanup();
    await stopBackends();
  }
}

/** The API as production runs it: its own process, logging every request at info to stdout (here /dev/null). */
async function spawnApi(
  env: TestBackends['env'],
): Promise<{ url: string; rss(): number; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(API_ENTRY.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : []),
      ...API_NODE_FLAGS,
      ...(process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      API_ENTRY,
    ],
    {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'],
    },
  );
  const errors: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`API exited (${child.exitCode}):\n${errors.join('')}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.ok;
    },
    'the API to answer /health',
    60_000,
  );
  return {
    url,
    // The resident set of the API process alone, as the kernel counts it.
    rss: () =>
      Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** The reads again, at 10 connections, while a worker process keeps 50 runs in flight. */
async function underEngineLoad(
  url: string,
  backends: TestBackends,
  selected: Scenario[],
  targets: { conflux: Target; floor: Target },
): Promise<void> {
  const engine = await keepRunsInFlight(url, backends);
  try {
    for (const scenario of selected.filter(
      (s) => s.method === 'GET' && !s.path(targets.conflux).startsWith('/health'),
    ))
      await compare(`${scenario.name} (${IN_FLIGHT} runs in flight)`, scenario, targets, 10);
  } finally {
    console.log(`runs finished meanwhile: ${await engine.stop()}`);
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

/** A tenant with five workflows and one run to read; its owner key. */
async function seed(url: string, tenant: OnboardedTenant): Promise<{ key: string; runId: string }> {
  const key = tenant.ownerKey.headers['x-api-key'];
  for (let i = 0; i < WORKFLOWS - 1; i += 1) {
    await call(url, 'POST', '/api/v1/workflows', {
      credentials: tenant.ownerKey,
      body: JSON.parse(CREATE_BODY),
    });
  }
  const workflowId = await publish(url, tenant, ['start']);
  const run = await call(url, 'POST', `/api/v1/workflows/${workflowId}/run`, {
    credentials: tenant.ownerKey,
    body: { input: {} },
  });
  if (run.status !== 201) throw new Error(`run start failed: ${run.status} ${JSON.stringify(run.body)}`);
  return { key, runId: run.body.id as string };
}

/** A published chain: a manual trigger, then a transform per further id, each after the previous. */
async function publish(url: string, tenant: OnboardedTenant, ids: string[]): Promise<string> {
  const nodes = ids.map((id, i) => ({
    id,
    type: i === 0 ? 'trigger.manual' : 'transform',
    position: { x: 0, y: i * 100 },
    data: { config: i === 0 ? {} : { expression: '$sum([1..200])' } },
  }));
  const edges = ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i], target: id }));
  const created = await call(url, 'POST', '/api/v1/workflows', {
    credentials: tenant.ownerKey,
    body: { name: 'bench', definition: { nodes, edges } },
  });
  const id = created.body.id as string;
  const published = await call(url, 'POST', `/api/v1/workflows/${id}/publish`, {
    credentials: tenant.ownerKey,
  });
  if (published.status !== 200) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
  return id;
}

/** A worker process and a closed loop that starts a run (through the API) whenever one of the 50 finishes. */
async function keepRunsInFlight(url: string, backends: TestBackends): Promise<{ stop(): Promise<number> }> {
  const tenant = await onboardTenant(url, await loginAdmin(url), 'engine');
  const steps = ['a', 'b', 'c', 'd'];
  const workflowId = await publish(url, tenant, ['start', ...steps]);
  const worker = await spawnWorker({ ...backends.env, WORKER_QUEUES: 'engine', LOG_LEVEL: 'warn' });
  const sub = new Redis(testRedisUrl());
  let stopping = false;
  let finished = 0;
  const startOne = () =>
    call(url, 'POST', `/api/v1/workflows/${workflowId}/run`, {
      credentials: tenant.ownerKey,
      body: { input: {} },
    }).then(
      (run) => {
        if (run.status !== 201) console.error(`run start failed: ${run.status} ${JSON.stringify(run.body)}`);
      },
      (error: Error) => console.error(`run start failed: ${error.message}`),
    );
  await sub.subscribe(`${backends.queuePrefix}:tenant:engine:runs`);
  sub.on('message', (_channel, message) => {
    const { type } = JSON.parse(message) as { type: string };
    if (type !== 'run.completed' && type !== 'run.failed') return;
    finished += 1;
    if (!stopping) void startOne();
  });
  await Promise.all(Array.from({ length: IN_FLIGHT }, startOne));
  return {
    stop: async () => {
      stopping = true;
      sub.disconnect();
      await worker.stop();
      if (finished === 0) console.log(worker.output.slice(-20).join('\n'));
      return finished;
    },
  };
}

/** The floor: what each route must at least do, on bare Express, pg and ioredis. */
async function startFloor(backends: TestBackends): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: backends.databaseUrl, max: 10 });
  const redis = new Redis(testRedisUrl());
  const limitScript = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;
  interface Caller {
    tenantId: string;
    keyId: string;
  }
  const authenticate = async (req: Request, res: Response): Promise<Caller | undefined> => {
    const count = Number(await redis.eval(limitScript, 1, `${backends.queuePrefix}:floor:rl`, 60_000));
    if (count > 100_000_000) {
      res.status(429).end();
      return undefined;
    }
    const key = req.header('x-api-key') ?? '';
    const prefix = /^(cfx_[A-Za-z0-9]{8})_/.exec(key)?.[1];
    const { rows } = await pool.query<{ id: string; tenant_id: string; key_hash: string }>(
      'SELECT id, tenant_id, key_hash FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL',
      [prefix],
    );
    const hash = createHash('sha256').update(key).digest();
    if (!rows[0] || !timingSafeEqual(hash, Buffer.from(rows[0].key_hash, 'hex'))) {
      res.status(401).end();
      return undefined;
    }
    return { tenantId: rows[0].tenant_id, keyId: rows[0].id };
  };
  // Handlers still running when autocannon hangs up; the pool ends only after them.
  const inFlight = new Set<Promise<void>>();
  const handle =
    (work: (req: Request, res: Response, caller: Caller) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction) => {
      const handled = authenticate(req, res)
        .then((caller) => (caller ? work(req, res, caller) : undefined))
        .catch(next);
      inFlight.add(handled);
      void handled.finally(() => inFlight.delete(handled));
    };
  const app = express();
  app.get(
    '/api/v1/workflows',
    handle(async (_req, res, { tenantId }) => {
      const [page, count] = await Promise.all([
        pool.query(
          'SELECT * FROM workflows WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 20 OFFSET 0',
          [tenantId],
        ),
        pool.query<{ n: string }>('SELECT count(*) AS n FROM workflows WHERE tenant_id = $1', [tenantId]),
      ]);
      res.json({ items: page.rows, total: Number(count.rows[0].n) });
    }),
  );
  app.get(
    '/api/v1/runs/:id',
    handle(async (req, res, { tenantId }) => {
      // A run answers with its context, which Conflux stores once per step (step_runs) and assembles on read:
      // the floor assembles it too, with the same statement.
      const { rows } = await pool.query(
        `SELECT r.*, jsonb_build_object('input', r.input, 'steps', COALESCE((
           SELECT jsonb_object_agg(s.step_id, CASE WHEN s.status = 'completed'
                    THEN jsonb_build_object('status', s.status, 'output', s.output)
                    ELSE jsonb_build_object('status', s.status) END)
             FROM step_runs s WHERE s.run_id = r.id), '{}'::jsonb)) AS context
           FROM runs r WHERE r.tenant_id = $1 AND r.id = $2`,
        [tenantId, req.params.id],
      );
      if (rows[0]) res.json(rows[0]);
      else res.status(404).end();
    }),
  );
  app.post(
    '/api/v1/workflows',
    express.json(),
    handle(async (req, res, { tenantId, keyId }) => {
      const idempotencyKey = req.header('x-idempotency-key');
      const body = req.body as { name: string; definition: unknown };
      const row = await pgTransaction(pool, async (client) => {
        if (idempotencyKey) {
          await client.query('SELECT pg_try_advisory_xact_lock(1, hashtext($1))', [idempotencyKey]);
          await client.query(
            `INSERT INTO idempotency_keys (scope, key, fingerprint, status, expires_at)
             VALUES ($1, $2, $3, 'in_progress', now() + interval '1 day')`,
            [tenantId, idempotencyKey, createHash('sha256').update(JSON.stringify(body)).digest('hex')],
          );
        }
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO workflows (tenant_id, family_id, name, definition)
           VALUES ($1, gen_random_uuid(), $2, $3) RETURNING *`,
          [tenantId, body.name, JSON.stringify(body.definition)],
        );
        // The chain's lock as late as it can be: the tenant's writes queue on it until COMMIT.
        await client.query('SELECT pg_advisory_xact_lock(2, hashtext($1))', [tenantId]);
        const head = await client.query<{ seq: string; hash: string }>(
          `SELECT seq, hash FROM audit_events WHERE coalesce(tenant_id, '') = $1 ORDER BY seq DESC LIMIT 1`,
          [tenantId],
        );
        const seq = Number(head.rows[0]?.seq ?? 0) + 1;
        const hash = createHash('sha256').update(`${head.rows[0]?.hash}${seq}`).digest('hex');
        await client.query(
          `INSERT INTO audit_events (tenant_id, seq, event_type, "timestamp", actor, resource_type, resource_id, prev_hash, hash)
           VALUES ($1, $2, 'workflow.created', now(), $3, 'workflow', $4, $5, $6)`,
          [tenantId, seq, `api_key:${keyId}`, inserted.rows[0].id, head.rows[0]?.hash ?? '', hash],
        );
        if (idempotencyKey) {
          await client.query(
            `UPDATE idempotency_keys SET status = 'completed', response_status = 201, response_body = $3,
               completed_at = now() WHERE scope = $1 AND key = $2`,
            [tenantId, idempotencyKey, JSON.stringify(inserted.rows[0])],
          );
        }
        return inserted.rows[0];
      });
      res.status(201).json(row);
    }),
  );
  app.get('/health', (_req, res, next) => {
    Promise.all([pool.query('SELECT 1'), redis.ping()])
      .then(() => res.json({ status: 'healthy' }))
      .catch(next);
  });

  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(inFlight);
      await pool.end();
      redis.disconnect();
    },
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
