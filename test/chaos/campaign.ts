/**
 * The fault campaign (`npm run chaos`, and test/e2e/faults/chaos.e2e-spec.ts with smaller numbers): runs of a 5-step
 * HTTP workflow over two worker processes while it kills a worker with SIGKILL three times, restarts Redis once and
 * PostgreSQL once, and sends a worker SIGTERM, each while runs are in flight. A second client probes the API all along.
 * The servers it restarts are its own (an embedded PostgreSQL, a spawned redis-server), never the machine's.
 *
 * No jest imports: the npm script loads this too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/core/database/embedded-postgres';
import { type LocalRedis, startLocalRedis } from '../../src/core/queue/local-redis';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  spawnWorker,
  startTestApi,
  waitFor,
  type WorkerProcess,
} from '../support/harness';
import { httpChain, publish, recordingServer } from '../support/workflows';

const STEPS = ['h1', 'h2', 'h3', 'h4', 'h5'];
const FAULTS = ['kill -9', 'restart Redis', 'kill -9', 'restart PostgreSQL', 'kill -9', 'SIGTERM'] as const;
type Fault = (typeof FAULTS)[number];

export interface ChaosOptions {
  /** Runs started in all (a sixth of them just before each fault). */
  runs: number;
  /** How long each restarted server stays down. */
  downMs?: number;
  /** How long the runs may take to complete after the last fault. */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  runs: number;
  completed: number;
  /** Steps with more than one `step.completed` event (must be 0). */
  stepsCompletedTwice: number;
  /** Runs whose event `seq` is not exactly 1..n. */
  runsWithSeqGaps: number;
  /** `<run>:<step>` idempotency keys the recording server never saw (must be 0). */
  missingKeys: number;
  /** Requests the endpoint received in all (a step re-run after a kill sends its key again). */
  stepCalls: number;
  /**
   * Every answer the API gave (starts and probes): `200`, `503 DB_UNAVAILABLE`, ...; `no answer` is a request that
   * failed or timed out.
   */
  answers: Record<string, number>;
  /** The SIGTERMed worker's exit code (0: it drained within its grace period). */
  sigtermExit: number | null;
  faults: Array<{ fault: Fault; inFlight: number; atMs: number }>;
  durationMs: number;
}

/** An answer the API may give while its servers come and go: 2xx, or 503 in the envelope with its code. */
export function acceptableAnswer(answer: string): boolean {
  return /^2\d\d$/.test(answer) || /^503 (DB|QUEUE)_UNAVAILABLE$/.test(answer);
}

/** How an answer is counted: its status, and for an error its `error_code` too (`503 DB_UNAVAILABLE`). */
async function answerOf(res: Response): Promise<{ answer: string; body: Record<string, unknown> }> {
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  const code = typeof body.error_code === 'string' ? body.error_code : 'without an envelope';
  return { answer: res.ok ? String(res.status) : `${res.status} ${code}`, body };
}

export async function runChaosCampaign(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const downMs = options.downMs ?? 2000;
  const began = Date.now();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conflux-chaos-pg-'));
  const saved = { db: process.env.TEST_DATABASE_URL, redis: process.env.TEST_REDIS_URL };
  const stops: Array<() => Promise<unknown>> = [];
  let pg: EmbeddedPostgres | undefined;
  let redis: LocalRedis | undefined;
  try {
    pg = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
    const pgPort = Number(new URL(pg.url).port);
    redis = await startLocalRedis();
    const redisPort = Number(new URL(redis.url).port);
    stops.push(
      () => redis!.stop(),
      () => pg!.stop(),
    );
    // createTestBackends and the workers it configures use these servers.
    process.env.TEST_DATABASE_URL = pg.url;
    process.env.TEST_REDIS_URL = redis.url;
    const server = await recordingServer();
    stops.unshift(() => server.close());
    const backends = await createTestBackends({
      HTTP_STEP_ALLOW_HOSTS: '127.0.0.1',
      DATABASE_POOL_SIZE: '5',
      WORKER_LOCK_MS: '2000',
      WORKER_SHUTDOWN_GRACE_MS: '15000',
      ENGINE_RECONCILE_EVERY_MS: '1000',
      ENGINE_RECONCILE_AFTER_MS: '3000',
    });
    await relaxRateLimits(backends);
    const api = await startTestApi(backends.env);
    stops.unshift(() => api.close());
    const workers: WorkerProcess[] = [];
    stops.unshift(() => Promise.all(workers.map((w) => w.stop('SIGKILL'))));
    const tenant = await onboardTenant(api.url, await loginAdmin(api.url), 'chaos');
    const workflowId = await publish(api.url, tenant, httpChain(`${server.url}/slow/80`, 5));
    workers.push(await spawnWorker(backends.env), await spawnWorker(backends.env));

    const answers: Record<string, number> = {};
    const answered = (status: string) => (answers[status] = (answers[status] ?? 0) + 1);
    const probe = new Probe(api.url, tenant, answered);
    const runIds: string[] = [];
    const starting: Array<Promise<void>> = [];
    let started = 0;
    const startBurst = (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const index = started++;
        starting.push(
          startUntilAccepted(api.url, tenant, workflowId, index, answered).then((id) => void runIds.push(id)),
        );
      }
    };
    const faults: ChaosReport['faults'] = [];
    let sigtermExit: number | null = null;
    const burst = Math.max(1, Math.floor(options.runs / FAULTS.length));
    for (const [i, fault] of FAULTS.entries()) {
      const callsBefore = server.requests.length;
      startBurst(i === FAULTS.length - 1 ? options.runs - burst * i : burst);
      // Strike once the burst is under way: about one step per run of it has called the endpoint.
      await waitFor(
        () => server.requests.length >= callsBefore + burst,
        `burst ${i} to be under way`,
        60_000,
      );
      const inFlight = (await openRuns(backends.databaseUrl)) ?? -1;
      faults.push({ fault, inFlight, atMs: Date.now() - began });
      log(`${fault} with ${inFlight} runs open`);
      if (fault === 'kill -9' || fault === 'SIGTERM') {
        const victim = workers.shift()!;
        const code = await victim.stop(fault === 'kill -9' ? 'SIGKILL' : 'SIGTERM');
        if (fault === 'SIGTERM') {
          sigtermExit = code;
          // A worker that did not stop cleanly: what it said last, for whoever reads the failure.
          if (code !== 0) console.error(`SIGTERM exit ${code}:\n${victim.output.slice(-40).join('\n')}`);
        }
        workers.push(await spawnWorker(backends.env));
      } else if (fault === 'restart Redis') {
        await redis.stop();
        await sleep(downMs);
        redis = await startLocalRedis(redisPort);
      } else {
        await pg.stop();
        await sleep(downMs);
        pg = await startEmbeddedPostgres({ dataDir, database: 'postgres', port: pgPort });
      }
    }
    await Promise.all(starting);
    const completed = await waitFor(
      async () => {
        const done = await countCompleted(backends.databaseUrl, runIds);
        return done === runIds.length ? done : undefined;
      },
      `${runIds.length} runs to complete`,
      options.settleMs ?? 120_000,
      250,
    ).catch(async () => countCompleted(backends.databaseUrl, runIds));
    await probe.stop();

    const seen = new Set(server.requests.map((r) => r.idempotencyKey));
    const missingKeys = runIds
      .flatMap((run) => STEPS.map((step) => `${run}:${step}`))
      .filter((k) => !seen.has(k));
    return {
      runs: runIds.length,
      completed: completed ?? 0,
      ...(await integrity(backends.databaseUrl)),
      missingKeys: missingKeys.length,
      stepCalls: server.requests.length,
      answers,
      sigtermExit,
      faults,
      durationMs: Date.now() - began,
    };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    process.env.TEST_DATABASE_URL = saved.db;
    process.env.TEST_REDIS_URL = saved.redis;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Starts run `index`, retrying a 503 (a server is down) or a 409 (the first try is still in flight) with one key. */
async function startUntilAccepted(
  url: string,
  tenant: OnboardedTenant,
  workflowId: string,
  index: number,
  answered: (status: string) => void,
): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(`${url}/api/v1/workflows/${workflowId}/run`, {
      method: 'POST',
      headers: {
        ...tenant.ownerKey.headers,
        'content-type': 'application/json',
        'x-idempotency-key': `chaos-${index}`,
      },
      body: JSON.stringify({ input: { index } }),
      signal: AbortSignal.timeout(10_000),
    })
      .then(answerOf)
      .catch((): Awaited<ReturnType<typeof answerOf>> => ({ answer: 'no answer', body: {} }));
    answered(status.answer);
    if (status.answer === '201' && typeof status.body.id === 'string') return status.body.id;
    if (Date.now() > deadline)
      throw new Error(`run ${index} was not accepted within 60 s (last: ${status.answer})`);
    await sleep(200);
  }
}

/** A second client reading the API every 100 ms while the faults happen, counting what it gets back. */
class Probe {
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(url: string, tenant: OnboardedTenant, answered: (status: string) => void) {
    this.loop = (async () => {
      while (!this.stopped) {
        const status = await fetch(`${url}/api/v1/workflows`, {
          headers: tenant.ownerKey.headers,
          signal: AbortSignal.timeout(10_000),
        })
          .then(async (res) => (await answerOf(res)).answer)
          .catch(() => 'no answer');
        answered(status);
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

async function withDb<T>(url: string, fn: (db: Client) => Promise<T>): Promise<T | undefined> {
  const db = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await db.connect();
    return await fn(db);
  } catch {
    return undefined; // the database is the one being restarted: the caller asks again
  } finally {
    await db.end().catch(() => undefined);
  }
}

const openRuns = (url: string) =>
  withDb(url, async (db) => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE status NOT IN ('completed', 'failed', 'cancelled')`,
    );
    return rows[0].n;
  });

const countCompleted = (url: string, runIds: string[]) =>
  withDb(url, async (db) => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE id = ANY($1) AND status = 'completed'`,
      [runIds],
    );
    return rows[0].n;
  });

/** Over every run in the database, not only the ones the campaign knows: no step completed twice, seq gap-free. */
async function integrity(url: string): Promise<Pick<ChaosReport, 'stepsCompletedTwice' | 'runsWithSeqGaps'>> {
  const result = await withDb(url, async (db) => {
    const twice = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM run_events WHERE event_type = 'step.completed'
          GROUP BY run_id, step_id HAVING count(*) > 1) twice`,
    );
    const gaps = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM run_events GROUP BY run_id
         HAVING min(seq) <> 1 OR max(seq) <> count(*) OR count(DISTINCT seq) <> count(*)) gaps`,
    );
    return { stepsCompletedTwice: twice.rows[0].n, runsWithSeqGaps: gaps.rows[0].n };
  });
  if (!result) throw new Error('the database did not answer after the campaign');
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
