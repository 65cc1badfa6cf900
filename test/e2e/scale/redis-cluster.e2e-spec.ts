import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { ConfigError, loadConfig } from '../../../src/core/config/config.loader';
import { RedisConfig } from '../../../src/core/config/redis.config';
import { findFreePort } from '../../../src/core/net/free-port';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { eventsOf, graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  captureLogs,
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';
import { isTerminalEvent, watchRun } from '../../support/ws';

// A 3-node Redis Cluster on free ports (three masters, no replicas): the API and the worker run against it.
let dir: string;
const ports: number[] = [];
const nodes: ChildProcess[] = [];
let backends: TestBackends;
let env: Record<string, string | undefined>;
let api1: RunningApi;
let api2: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;

async function startCluster(): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'conflux-redis-cluster-'));
  for (let i = 0; i < 3; i++)
    ports.push(await findFreePort((ports.at(-1) ?? 17000 + Math.floor(Math.random() * 2000)) + 1));
  for (const port of ports) {
    // prettier-ignore
    nodes.push(spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--dir', dir,
      '--save', '', '--appendonly', 'no',
    ], { stdio: 'ignore' }));
  }
  await waitFor(
    () =>
      ports.every((port) =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'])
          .stdout?.toString()
          .includes('PONG'),
      ),
    'the Redis nodes to start',
  );
  const created = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-yes'],
    { encoding: 'utf8' },
  );
  if (created.status !== 0)
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
  await waitFor(
    () =>
      ports.every((port) =>
        spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes(
          'cluster_state:ok',
        ),
      ),
    'the cluster to be ok',
  );
}

beforeAll(async () => {
  await startCluster();
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  env = {
    ...backends.env,
    REDIS_URL: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    QUEUE_PREFIX: `{${backends.queuePrefix}}`,
  };
  api1 = await startTestApi(env);
  api2 = await startTestApi(env);
  worker = await startInProcessWorker(env);
  acme = await onboardTenant(api1.url, await loginAdmin(api1.url), 'acme');
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await api1?.close();
  await api2?.close();
  await backends?.cleanup();
  for (const node of nodes) node.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  it('completes a run started on one API and streams its events to a client of the other', async () => {
    const workflowId = await publish(
      api1.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 500 } },
          { id: 'double', type: 'transform', config: { expression: 'input.n * 2' } },
        ],
        ['start->wait', 'wait->double'],
      ),
    );
    const runId = (await startRun(api1.url, acme, workflowId, { n: 21 })).body.id as string;
    const socket = await watchRun(api2.url, acme, runId);
    await socket.next(isTerminalEvent, 'the terminal event over the socket', 30_000);
    const run = await waitForStatus(api1.url, acme, runId, ['completed', 'failed'], 30_000);
    expect(run.status).toBe('completed');
    expect(run.context.steps.double.output).toBe(42);
    const [snapshot, ...events] = socket.frames;
    const stored = await eventsOf(api1.url, acme, runId);
    expect(events).toEqual(
      stored.filter((e) => e.seq > (snapshot.last_seq as number)).map((e) => ({ type: 'event', ...e })),
    );
    socket.close();
  });

  it("keeps every key of the deployment in its prefix's slot", async () => {
    const client = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const keys: string[] = [];
      for (const node of client.nodes('master')) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `{${backends.queuePrefix}}*`, 'COUNT', 1000);
          keys.push(...batch);
          cursor = next;
        } while (cursor !== '0');
      }
      expect(keys.some((key) => key.includes(':engine:'))).toBe(true);
      const slots = new Set(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key))));
      expect(slots.size).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('refuses a cluster REDIS_URL with a prefix that is not a hash tag, naming the fix', () => {
    expect(() => loadConfig(RedisConfig, { REDIS_URL: env.REDIS_URL, QUEUE_PREFIX: 'conflux' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig(RedisConfig, { REDIS_URL: env.REDIS_URL, QUEUE_PREFIX: 'conflux' })).toThrow(
      /QUEUE_PREFIX \("conflux"\): must start with a \{hash tag\}/,
    );
    expect(
      loadConfig(RedisConfig, { REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'conflux' }).QUEUE_PREFIX,
    ).toBe('conflux');
  });

  it('warns at boot when Redis may evict keys', async () => {
    for (const port of ports)
      spawnSync('redis-cli', ['-p', String(port), 'config', 'set', 'maxmemory-policy', 'allkeys-lru']);
    const logs = captureLogs();
    const api = await startTestApi({ ...env, LOG_LEVEL: 'warn' }, { logDestination: logs.destination });
    try {
      await waitFor(
        () => logs.lines.find((line) => String(line.msg).includes('maxmemory-policy is allkeys-lru')),
        'the eviction warning',
      );
    } finally {
      await api.close();
      for (const port of ports)
        spawnSync('redis-cli', ['-p', String(port), 'config', 'set', 'maxmemory-policy', 'noeviction']);
    }
  });
});
