import { WORKER_NODE_FLAGS } from '../../src/node-flags';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { AppOptions } from '../../src/app.options';
import type { Env } from '../../src/core/config/config.loader';
import { dataSourceOptions } from '../../src/core/database/data-source.options';
import type { DatabaseConfig } from '../../src/core/config/database.config';
import { runMigrationsLocked } from '../../src/core/database/migrate';
import { datasetRolePrefix } from '../../src/modules/data/dataset.repository';
import { createApiApp } from '../../src/main';
import { startWorker } from '../../src/worker';
import { testDatabaseServerUrl, testRedisUrl } from './backends';
import { TEST_BUILD } from './test-build';

/**
 * One per test file: a fresh, migrated database and a fresh queue prefix on the real servers, and
 * `cleanup()` to drop both. `env` is what an API or worker of this file runs with.
 */
export interface TestBackends {
  env: Env;
  databaseUrl: string;
  databaseName: string;
  queuePrefix: string;
  cleanup(): Promise<void>;
}

export const TEST_JWT_SECRET = 'conflux-test-secret-0123456789-abcdefghij';
export const TEST_ADMIN = { email: 'admin@conflux.test', password: 'admin-password-1' };

export async function createTestBackends(overrides: Env = {}): Promise<TestBackends> {
  const suffix = randomBytes(5).toString('hex');
  const databaseName = `conflux_test_${suffix}`;
  const queuePrefix = `conflux_test_${suffix}`;
  const serverUrl = new URL(testDatabaseServerUrl());
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${databaseName}"`));
  const databaseUrl = Object.assign(new URL(serverUrl.href), { pathname: `/${databaseName}` }).href;

  const dataSource = new DataSource(
    dataSourceOptions({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 2 } as DatabaseConfig),
  );
  await dataSource.initialize();
  await runMigrationsLocked(dataSource);
  await dataSource.destroy();

  const env: Env = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: queuePrefix,
    MIGRATIONS_RUN: 'false',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    ...overrides,
  };
  return {
    env,
    databaseUrl,
    databaseName,
    queuePrefix,
    cleanup: async () => {
      await dropQueuePrefix(queuePrefix);
      await withAdmin(async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
        // Tenant dataset roles are cluster-wide; their names carry this database's hash.
        const roles = await admin.query<{ rolname: string }>(
          'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)',
          [datasetRolePrefix(databaseName)],
        );
        for (const { rolname } of roles.rows) await admin.query(`DROP ROLE "${rolname}"`);
      });
    },
  };
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testDatabaseServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Deletes every key under the prefix (never FLUSHALL: the server may be shared). */
export async function dropQueuePrefix(prefix: string): Promise<void> {
  const redis = new Redis(testRedisUrl());
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface RunningApi {
  app: NestExpressApplication;
  url: string;
  close(): Promise<void>;
}

/** Boots the API in this process on a free loopback port. */
export async function startTestApi(env: Env, options: Omit<AppOptions, 'env'> = {}): Promise<RunningApi> {
  const app = await createApiApp({ ...options, env });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/**
 * Runs a worker inside the test process (same code as `node dist/worker.js`, minus the process). For suites about
 * what the worker does rather than about the process boundary (kill -9, signals), so its code counts in coverage.
 */
export async function startInProcessWorker(
  env: Env,
  options: Omit<AppOptions, 'env'> = {},
): Promise<{ stop(): Promise<void> }> {
  const app = await startWorker({ ...options, env });
  return { stop: () => app.close() };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Every line the worker printed. */
  output: string[];
  /** Resolves with the exit code (or null on a signal). */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const TS_NODE = require.resolve('ts-node/register/transpile-only');

/**
 * Spawns a worker as a separate OS process (`entry` defaults to the real worker, src/worker.ts as this run
 * compiled it: see test-build.ts) and resolves once it
 * consumes its queues.
 */
export async function spawnWorker(
  env: Env,
  entry = path.join(TEST_BUILD, 'worker.js'),
): Promise<WorkerProcess> {
  // A compiled entry (dist/*.js) runs as production does; a .ts entry through ts-node.
  const child = spawn(
    process.execPath,
    [
      ...(entry.endsWith('.js') ? [] : ['-r', TS_NODE]),
      ...WORKER_NODE_FLAGS,
      ...(process.env.WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      entry,
    ],
    {
      env: {
        ...process.env,
        ...env,
        LOG_LEVEL: 'info',
        TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        if (line.includes('"consuming ')) resolve();
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    void exited.then((code) =>
      reject(new Error(`worker exited (${code}) before it was ready:\n${output.join('\n')}`)),
    );
  });
  await withTimeout(ready, 30_000, 'worker to start');
  return {
    child,
    output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns a truthy value. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * For suites that are not about rate limits: gives every plan a budget that polling cannot exhaust, and no limit
 * on concurrent runs (suites that start hundreds of runs at once).
 */
export async function relaxRateLimits(backends: TestBackends): Promise<void> {
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  try {
    await db.query(
      'UPDATE plans SET requests_per_minute = 1000000, requests_per_hour = 100000000, concurrent_runs = NULL',
    );
  } finally {
    await db.end();
  }
}

/** A log destination that keeps every JSON line, for suites that assert what operators see in the logs. */
export function captureLogs(): { lines: Array<Record<string, unknown>>; destination: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}
