import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findFreePort } from '../../../src/core/net/free-port';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { eventsOf, graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
  withTimeout,
} from '../../support/harness';
import { isTerminalEvent, watchRun } from '../../support/ws';

// A Redis master, its replica and a Sentinel watching them, on free ports: the API and the worker find the
// master through REDIS_URL=redis+sentinel://..., and carry on when Sentinel fails over to the replica.
let dir: string;
let masterPort: number;
let replicaPort: number;
let sentinelPort: number;
const servers: ChildProcess[] = [];
let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let workflowId: string;

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';
const masterAddress = () => cli(sentinelPort, 'sentinel', 'get-master-addr-by-name', 'mymaster');

function redis(port: number, ...args: string[]): void {
  // prettier-ignore
  servers.push(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args,
  ], { stdio: 'ignore' }));
}

async function startSentinelSet(): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'conflux-redis-sentinel-'));
  masterPort = await findFreePort(19000 + Math.floor(Math.random() * 2000));
  replicaPort = await findFreePort(masterPort + 1);
  sentinelPort = await findFreePort(replicaPort + 1);
  redis(masterPort);
  redis(replicaPort, '--replicaof', '127.0.0.1', String(masterPort));
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
      '',
    ].join('\n'),
  );
  servers.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
  await waitFor(
    () => cli(replicaPort, 'info', 'replication').includes('master_link_status:up'),
    'the replica to sync',
    20_000,
  );
  await waitFor(
    () => cli(sentinelPort, 'sentinel', 'replicas', 'mymaster').includes(String(replicaPort)),
    'Sentinel to know the replica',
    20_000,
  );
}

beforeAll(async () => {
  await startSentinelSet();
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  const env = { ...backends.env, REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster` };
  api = await startTestApi(env);
  worker = await startInProcessWorker(env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  workflowId = await publish(
    api.url,
    acme,
    graph(
      [
        { id: 'start', type: 'trigger.manual' },
        { id: 'wait', type: 'delay', config: { duration_ms: 200 } },
        { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
      ],
      ['start->wait', 'wait->double'],
    ),
  );
}, 90_000);

afterAll(async () => {
  // Bounded, so a client still chasing a master cannot hold the Redis servers (and the suite) up.
  const settle = (what: string, closing: Promise<unknown> | undefined) =>
    closing && withTimeout(closing, 30_000, what).catch((error: Error) => console.warn(error.message));
  await settle('the worker to stop', worker?.stop());
  await settle('the API to close', api?.close());
  await backends?.cleanup();
  for (const server of servers) server.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

async function completes(n: number): Promise<string> {
  // While the clients move to the new master a start may answer 503 QUEUE_UNAVAILABLE (never anything else);
  // a client retries it, as this does.
  const started = await waitFor(
    async () => {
      const res = await startRun(api.url, acme, workflowId, { n });
      if (res.status !== 201) expect(res.status).toBe(503);
      return res.status === 201 ? res : undefined;
    },
    'a run start to be taken',
    60_000,
    250,
  );
  const runId = started.body.id as string;
  const run = await waitForStatus(api.url, acme, runId, ['completed', 'failed'], 60_000);
  expect(run.status).toBe('completed');
  expect(run.context.steps.double.output).toBe(n * 2);
  return runId;
}

describe('Redis Sentinel', () => {
  it("runs and streams through the master Sentinel names, whose keys hold the deployment's queues", async () => {
    const runId = (await startRun(api.url, acme, workflowId, { n: 21 })).body.id as string;
    const socket = await watchRun(api.url, acme, runId);
    try {
      await socket.next(isTerminalEvent, 'the terminal event over the socket', 30_000);
    } finally {
      socket.close();
    }
    expect(
      (await waitForStatus(api.url, acme, runId, ['completed'], 30_000)).context.steps.double.output,
    ).toBe(42);
    expect((await eventsOf(api.url, acme, runId)).at(-1)?.event_type).toBe('run.completed');
    expect(cli(masterPort, 'keys', `${backends.queuePrefix}:engine:*`)).toContain(
      `${backends.queuePrefix}:engine:`,
    );
  });

  it('carries on after Sentinel fails over to the replica', async () => {
    await completes(1);
    expect(cli(sentinelPort, 'sentinel', 'failover', 'mymaster')).toContain('OK');
    await waitFor(() => masterAddress().includes(String(replicaPort)), 'the replica to be promoted', 30_000);
    await waitFor(
      () => cli(replicaPort, 'info', 'replication').includes('role:master'),
      'the new master to take writes',
      30_000,
    );
    // The old master is a replica now (it refuses writes): runs started after the failover can only be queued
    // on, and finished through, the new master.
    await waitFor(
      () => cli(masterPort, 'info', 'replication').includes('role:slave'),
      'the old master to be demoted',
      30_000,
    );
    for (const n of [2, 3, 4]) await completes(n);
  }, 150_000);
});
