/**
 * `npm run bench:engine`: a 3-step no-op workflow (trigger -> transform -> transform) kept at 1, 50 and 200
 * runs in flight, on a worker running as its own process, alternated with a raw BullMQ + pg baseline that
 * does the same transactions per step (claim the step; then record completion, append events, update the
 * run and queue the next step) and with Restate (restate-server from npm, fsync on, running a 3-`ctx.run`
 * service of bench/restate/service.mjs; installed apart from the product with `npm --prefix bench/restate ci`,
 * skipped when it is not) in the same run (BENCH_WORKLOAD=http: three HTTP GETs instead, see HTTP below), each
 * finishing BENCH_RUNS runs per level (20 times the level, at least
 * 200). Prints runs/s, end-to-end and step-to-step p50/p99, the throughput ratios, the CPU each part used per run
 * (this process, the engine worker, PostgreSQL, Redis, Restate) and the engine worker's peak RSS. Numbers, not a
 * test.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { findFreePort } from '../src/core/net/free-port';
import { EngineService } from '../src/modules/engine/engine.service';
import { pgTransaction } from './pg-transaction';
import { WorkflowsService } from '../src/modules/workflows/workflows.service';
import { loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends, testRedisUrl } from '../test/support/backends';
import { graph, httpGet, okServer, publish } from '../test/support/workflows';
import { createTestBackends, relaxRateLimits, spawnWorker, startTestApi } from '../test/support/harness';

const LEVELS = (process.env.BENCH_IN_FLIGHT ?? '1,50,200').split(',').map(Number);
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 50);
/** Runs each system finishes per level (default 20 times the level, at least 200: seconds, not a ramp). */
const RUNS_PER_LEVEL = process.env.BENCH_RUNS ? Number(process.env.BENCH_RUNS) : undefined;
const STEPS = 3;
/**
 * BENCH_WORKLOAD=http: each of the 3 steps is an HTTP GET to a local server (Conflux: a trigger and three
 * http.request steps; the floor: a GET between a step's claim and its completion; Restate: three `ctx.run`
 * fetches). Default `noop`.
 */
const HTTP = process.env.BENCH_WORKLOAD === 'http';
/** Step-to-step: from one step's completion to the next one's start. */
const NOOP_GAPS = [
  ['start', 'a'],
  ['a', 'b'],
];
const HTTP_GAPS = [...NOOP_GAPS, ['b', 'c']];

interface Sample {
  runsPerSecond: number;
  endToEnd: number[];
  stepToStep: number[];
  /** CPU ms per run of each part while the round ran. */
  cpu?: CpuParts;
}

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** CPU seconds per part. */
type CpuParts = Record<'bench' | 'worker' | 'postgres' | 'redis' | 'restate', number>;
type CpuUse = Map<number, { part: keyof CpuParts; seconds: number }>;

/**
 * CPU seconds each process of a part has used so far, from /proc (Linux's 100 ticks a second). A round's use is
 * the difference per process, so a database backend that exits meanwhile takes only its last moments with it.
 */
function cpuNow(pids: { worker?: number; restate: number[] }): CpuUse {
  const used: CpuUse = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    const pid = Number(entry);
    const part: keyof CpuParts | undefined =
      pid === process.pid
        ? 'bench'
        : pid === pids.worker
          ? 'worker'
          : pids.restate.includes(pid) || comm === 'restate-server'
            ? 'restate'
            : comm === 'postgres'
              ? 'postgres'
              : comm === 'redis-server'
                ? 'redis'
                : undefined;
    if (part) used.set(pid, { part, seconds });
  }
  return used;
}

function cpuBetween(before: CpuUse, after: CpuUse): CpuParts {
  const parts: CpuParts = { bench: 0, worker: 0, postgres: 0, redis: 0, restate: 0 };
  for (const [pid, { part, seconds }] of after) parts[part] += seconds - (before.get(pid)?.seconds ?? 0);
  return parts;
}

/** Keeps `inFlight` runs going until `total` have finished; `start` resolves once a run is started. */
async function closedLoop(
  inFlight: number,
  total: number,
  start: () => Promise<{ finished: Promise<void> }>,
): Promise<number> {
  let started = 0;
  const began = performance.now();
  const lane = async () => {
    while (started < total) {
      started += 1;
      await (
        await start()
      ).finished;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return total / ((performance.now() - began) / 1000);
}

const RESTATE_DIR = path.join(__dirname, 'restate');
const RESTATE_BIN = path.join(
  RESTATE_DIR,
  'node_modules/@restatedev/restate-server-linux-x64/bin/restate-server',
);

interface Restate {
  /** One run of the service's handler, through Restate's HTTP ingress, answered once its last step is journaled. */
  invoke(i: number): Promise<void>;
  stop(): Promise<void>;
  pids: number[];
}

/** Restate server and the bench's service, registered with it; undefined when bench/restate is not installed. */
/** `http`: the HTTP workload's endpoint, which the service's `http` handler fetches three times. */
async function startRestate(http?: string): Promise<Restate | undefined> {
  if (!existsSync(RESTATE_BIN)) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'conflux-bench-restate-'));
  const [fabric, ingress, admin, service] = [
    await findFreePort(25_100),
    await findFreePort(28_100),
    await findFreePort(29_100),
    await findFreePort(29_300),
  ];
  const children: ChildProcess[] = [
    spawn(process.execPath, [path.join(RESTATE_DIR, 'service.mjs')], {
      env: { ...process.env, PORT: String(service), RESTATE_LOGGING: 'WARN' },
      stdio: 'ignore',
    }),
    spawn(RESTATE_BIN, ['--no-logo'], {
      env: {
        ...process.env,
        RESTATE_BASE_DIR: dir,
        RESTATE_BIND_IP: '127.0.0.1',
        RESTATE_BIND_PORT: String(fabric),
        RESTATE_INGRESS__BIND_PORT: String(ingress),
        RESTATE_ADMIN__BIND_PORT: String(admin),
        RESTATE_LISTEN_MODE: 'tcp',
        RESTATE_LOG_FILTER: 'warn',
        RESTATE_DISABLE_TELEMETRY: 'true',
      },
      stdio: 'ignore',
    }),
  ];
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const registered = await fetch(`http://127.0.0.1:${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${service}` }),
    }).catch(() => undefined);
    if (registered?.ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Restate did not take the deployment: ${registered?.status} ${await registered?.text()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const invoke = async (i: number) => {
    const res = await fetch(`http://127.0.0.1:${ingress}/Bench/${http ? 'http' : 'run'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(http ? { i, url: http } : { i }),
    });
    if (Number(await res.text()) !== i + 1) throw new Error(`Restate answered ${res.status}`);
  };
  // The ingress answers 404 until the deployment's services reach it.
  for (;;) {
    if (
      await invoke(0).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('Restate never ran the service');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { invoke, stop, pids: children.map((child) => child.pid ?? -1) };
}

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  // The HTTP workload's endpoint: answers at once, so the steps' cost is the engines', not the endpoint's.
  const target = await okServer();
  const backends = await createTestBackends({
    WORKER_CONCURRENCY: String(CONCURRENCY),
    DATABASE_POOL_SIZE: '20',
    HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
  });
  await relaxRateLimits(backends);
  const api = await startTestApi(backends.env);
  // The compiled worker, as production runs it (`npm run bench:engine` builds first).
  const worker = await spawnWorker(
    { ...backends.env, WORKER_QUEUES: 'engine' },
    path.join(__dirname, '../dist/worker.js'),
  );
  const sub = new Redis(testRedisUrl());
  const pool = new Pool({ connectionString: backends.databaseUrl, max: 20 });
  // relaxRateLimits lifts the plans' concurrent-runs cap; BENCH_CONCURRENT_RUNS=N measures the capped path.
  if (process.env.BENCH_CONCURRENT_RUNS)
    await pool.query('UPDATE plans SET concurrent_runs = $1', [Number(process.env.BENCH_CONCURRENT_RUNS)]);
  const restate = await startRestate(HTTP ? target.url : undefined);
  try {
    const tenant = await onboardTenant(api.url, await loginAdmin(api.url), 'bench');
    const get = (id: string) => httpGet(target.url, id);
    const workflowId = await publish(
      api.url,
      tenant,
      HTTP
        ? graph(
            [{ id: 'start', type: 'trigger.manual' }, get('a'), get('b'), get('c')],
            ['start->a', 'a->b', 'b->c'],
          )
        : graph(
            [
              { id: 'start', type: 'trigger.manual' },
              { id: 'a', type: 'transform', config: { expression: 'input.i' } },
              { id: 'b', type: 'transform', config: { expression: 'steps.a.output + 1' } },
            ],
            ['start->a', 'a->b'],
          ),
    );
    const engine = api.app.get(EngineService);
    const workflow = await api.app.get(WorkflowsService).require('bench', workflowId);

    // Engine: completion and step timings from the committed events the engine publishes.
    const done = new Map<string, () => void>();
    const times = new Map<
      string,
      { started: number; stepStarted: Map<string, number>; stepDone: Map<string, number> }
    >();
    const gaps: number[] = [];
    await sub.subscribe(`${backends.queuePrefix}:tenant:bench:runs`);
    interface Published {
      resource_id: string;
      type: string;
      step_id: string | null;
      timestamp: string;
    }
    // A run may finish before `start()` has returned to this loop: its events wait here until it is known.
    const early = new Map<string, Published[]>();
    const apply = (event: Published) => {
      const t = times.get(event.resource_id);
      if (!t) {
        early.set(event.resource_id, [...(early.get(event.resource_id) ?? []), event]);
        return;
      }
      const at = Date.parse(event.timestamp);
      if (event.type === 'step.completed' && event.step_id) t.stepDone.set(event.step_id, at);
      if (event.type === 'step.started' && event.step_id) t.stepStarted.set(event.step_id, at);
      if (event.type === 'run.completed') {
        for (const [from, to] of HTTP ? HTTP_GAPS : NOOP_GAPS) {
          const gap = (t.stepStarted.get(to) ?? NaN) - (t.stepDone.get(from) ?? NaN);
          if (Number.isFinite(gap)) gaps.push(gap);
        }
        done.get(event.resource_id)?.();
      }
    };
    sub.on('message', (_channel, message) => apply(JSON.parse(message) as Published));
    let serial = 0;
    const engineRound = async (inFlight: number, total: number): Promise<Sample> => {
      const e2e: number[] = [];
      gaps.length = 0;
      const rps = await closedLoop(inFlight, total, async () => {
        const began = performance.now();
        const { run } = await engine.start({
          tenantId: 'bench',
          workflow,
          input: { i: serial++ },
          triggerType: 'manual',
        });
        times.set(run.id, { started: Date.now(), stepStarted: new Map(), stepDone: new Map() });
        const finished = new Promise<void>((resolve) =>
          done.set(run.id, () => {
            e2e.push(performance.now() - began);
            done.delete(run.id);
            times.delete(run.id);
            resolve();
          }),
        );
        for (const event of early.get(run.id) ?? []) apply(event);
        early.delete(run.id);
        return { finished };
      });
      return { runsPerSecond: rps, endToEnd: e2e, stepToStep: [...gaps] };
    };

    // Baseline: the same transactions on raw BullMQ + pg, no framework.
    await pool.query(
      `CREATE TABLE bench_runs (id bigint PRIMARY KEY, status text, next_seq int NOT NULL DEFAULT 0, context jsonb NOT NULL DEFAULT '{}')`,
    );
    await pool.query(
      `CREATE TABLE bench_steps (run_id bigint, step int, status text, output jsonb, PRIMARY KEY (run_id, step))`,
    );
    await pool.query(
      `CREATE TABLE bench_events (run_id bigint, seq int, type text, step int, at timestamptz, PRIMARY KEY (run_id, seq))`,
    );
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const prefix = `${backends.queuePrefix}-baseline`;
    const queue = new Queue('baseline', { connection, prefix });
    const waiters = new Map<
      number,
      { began: number; resolve: () => void; done: number[]; started: number[] }
    >();
    const baseGaps: number[] = [];
    const tx = <T>(
      work: (
        q: (sql: string, params?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>,
      ) => Promise<T>,
    ) => pgTransaction(pool, (client) => work((sql, params) => client.query(sql, params)));
    const event = async (
      q: (sql: string, params?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>,
      run: number,
      type: string,
      step: number,
    ) => {
      const { rows } = await q(
        'UPDATE bench_runs SET next_seq = next_seq + 1 WHERE id = $1 RETURNING next_seq',
        [run],
      );
      await q('INSERT INTO bench_events VALUES ($1, $2, $3, $4, now())', [run, rows[0].next_seq, type, step]);
    };
    const baselineWorker = new Worker(
      'baseline',
      async (job) => {
        const { run, step } = job.data as { run: number; step: number };
        await tx(async (q) => {
          await q('SELECT id FROM bench_runs WHERE id = $1 FOR UPDATE', [run]);
          await q(
            `UPDATE bench_steps SET status = 'running' WHERE run_id = $1 AND step = $2 AND status = 'queued'`,
            [run, step],
          );
          await event(q, run, 'step.started', step);
        });
        const w = waiters.get(run);
        w?.started.push(Date.now());
        if (HTTP) await (await fetch(`${target.url}/floor-${step}`)).text();
        const last = await tx(async (q) => {
          await q('SELECT id FROM bench_runs WHERE id = $1 FOR UPDATE', [run]);
          await q(
            `UPDATE bench_steps SET status = 'completed', output = $3 WHERE run_id = $1 AND step = $2 AND status = 'running'`,
            [run, step, JSON.stringify(step)],
          );
          await event(q, run, 'step.completed', step);
          await q(`UPDATE bench_runs SET context = jsonb_set(context, $2, $3) WHERE id = $1`, [
            run,
            `{s${step}}`,
            JSON.stringify({ status: 'completed', output: step }),
          ]);
          if (step + 1 < STEPS) {
            await q(`INSERT INTO bench_steps VALUES ($1, $2, 'queued', NULL)`, [run, step + 1]);
            await event(q, run, 'step.queued', step + 1);
            return false;
          }
          await q(`UPDATE bench_runs SET status = 'completed' WHERE id = $1`, [run]);
          await event(q, run, 'run.completed', step);
          return true;
        });
        w?.done.push(Date.now());
        if (!last)
          await queue.add(
            'step',
            { run, step: step + 1 },
            { jobId: `${run}-${step + 1}`, removeOnComplete: true },
          );
        else w?.resolve();
      },
      { connection, prefix, concurrency: CONCURRENCY },
    );
    let baseSerial = 0;
    const baselineRound = async (inFlight: number, total: number): Promise<Sample> => {
      const e2e: number[] = [];
      baseGaps.length = 0;
      const rps = await closedLoop(inFlight, total, async () => {
        const run = ++baseSerial;
        const began = performance.now();
        await tx(async (q) => {
          await q(`INSERT INTO bench_runs (id, status) VALUES ($1, 'running')`, [run]);
          await q(`INSERT INTO bench_steps VALUES ($1, 0, 'queued', NULL)`, [run]);
          await event(q, run, 'run.created', 0);
        });
        await queue.add('step', { run, step: 0 }, { jobId: `${run}-0`, removeOnComplete: true });
        const finished = new Promise<void>((resolve) =>
          waiters.set(run, {
            began,
            done: [],
            started: [],
            resolve: () => {
              const w = waiters.get(run);
              if (w)
                for (let i = 1; i < w.started.length; i += 1) baseGaps.push(w.started[i] - w.done[i - 1]);
              e2e.push(performance.now() - began);
              waiters.delete(run);
              resolve();
            },
          }),
        );
        return { finished };
      });
      return { runsPerSecond: rps, endToEnd: e2e, stepToStep: [...baseGaps] };
    };

    // Restate: the same closed loop over its HTTP ingress (a call answers once the handler's last step is journaled).
    const restateRound = async (inFlight: number, total: number): Promise<Sample | undefined> => {
      if (!restate) return undefined;
      const e2e: number[] = [];
      const rps = await closedLoop(inFlight, total, async () => {
        const began = performance.now();
        const finished = restate.invoke(serial++).then(() => {
          e2e.push(performance.now() - began);
        });
        return { finished };
      });
      return { runsPerSecond: rps, endToEnd: e2e, stepToStep: [] };
    };

    // Warm every path, then alternate engine, baseline and Restate at each level.
    await engineRound(10, 50);
    await baselineRound(10, 50);
    await restateRound(10, 50);
    const rows: string[] = [];
    const restateRows: string[] = [];
    const f = (x: number) => x.toFixed(1).padStart(7);
    const pids = { worker: worker.child.pid, restate: restate?.pids ?? [] };
    const cpuRows: string[] = [];
    const measured = async <S extends Sample | undefined>(
      total: number,
      round: () => Promise<S>,
    ): Promise<S> => {
      const before = cpuNow(pids);
      const sample = await round();
      const after = cpuNow(pids);
      if (sample)
        sample.cpu = Object.fromEntries(
          Object.entries(cpuBetween(before, after)).map(([part, used]) => [part, (used * 1000) / total]),
        ) as CpuParts;
      return sample;
    };
    const cpuRow = (inFlight: number, system: string, cpu: CpuParts | undefined) => {
      if (!cpu) return;
      const total = Object.values(cpu).reduce((a, b) => a + b, 0);
      cpuRows.push(
        [String(inFlight).padStart(9), system.padEnd(8), ...Object.values(cpu).map(f), f(total)].join(' '),
      );
    };
    for (const inFlight of LEVELS) {
      const total = RUNS_PER_LEVEL ?? Math.max(200, inFlight * 20);
      const base = await measured(total, () => baselineRound(inFlight, total));
      const eng = await measured(total, () => engineRound(inFlight, total));
      const rst = await measured(total, () => restateRound(inFlight, total));
      cpuRow(inFlight, 'conflux', eng.cpu);
      cpuRow(inFlight, 'floor', base.cpu);
      cpuRow(inFlight, 'restate', rst?.cpu);
      rows.push(
        [
          String(inFlight).padStart(9),
          f(eng.runsPerSecond),
          f(base.runsPerSecond),
          (eng.runsPerSecond / base.runsPerSecond).toFixed(2).padStart(6),
          f(pct(eng.endToEnd, 50)),
          f(pct(eng.endToEnd, 99)),
          f(pct(base.endToEnd, 50)),
          f(pct(base.endToEnd, 99)),
          f(pct(eng.stepToStep, 50)),
          f(pct(eng.stepToStep, 99)),
          f(pct(base.stepToStep, 50)),
          f(pct(base.stepToStep, 99)),
        ].join(' '),
      );
      if (rst)
        restateRows.push(
          [
            String(inFlight).padStart(9),
            f(eng.runsPerSecond),
            f(rst.runsPerSecond),
            (eng.runsPerSecond / rst.runsPerSecond).toFixed(2).padStart(6),
            f(pct(rst.endToEnd, 50)),
            f(pct(rst.endToEnd, 99)),
          ].join(' '),
        );
    }
    const status = readFileSync(`/proc/${worker.child.pid}/status`, 'utf8');
    const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    console.log(
      `\n${HTTP ? '3 HTTP steps (GET to a local server)' : '3-step no-op workflow'}, worker concurrency ${CONCURRENCY}; ` +
        'times in ms; engine worker in its own process\n',
    );
    console.log(
      'in-flight  eng r/s  base r/s ratio  e2e p50 e2e p99  base50  base99 s2s p50 s2s p99  bs2s50  bs2s99',
    );
    for (const row of rows) console.log(row);
    if (restate) {
      console.log(
        `\nagainst Restate (restate-server, fsync on, 3 ctx.run ${HTTP ? 'fetches' : 'steps'}; e2e = the ingress call)\n`,
      );
      console.log('in-flight  eng r/s  rst r/s eng/rst  rst p50 rst p99');
      for (const row of restateRows) console.log(row);
    } else console.log('\nRestate not installed (npm --prefix bench/restate ci): no comparison with it');
    console.log(
      "\nCPU ms per run while each ran (bench = this process: Conflux's starts through EngineService, the floor's" +
        ' BullMQ worker, every client; restate = restate-server and its service)\n',
    );
    console.log('in-flight system      bench  worker postgres  redis restate   total');
    for (const row of cpuRows) console.log(row);
    console.log(`\nengine worker peak RSS: ${peakRss.toFixed(0)} MB`);
    await baselineWorker.close();
    await queue.close();
    connection.disconnect();
  } finally {
    await restate?.stop();
    sub.disconnect();
    await pool.end();
    await worker.stop();
    await api.close();
    await backends.cleanup();
    await stopBackends();
    await target.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
