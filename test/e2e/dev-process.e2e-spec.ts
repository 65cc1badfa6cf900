import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/core/net/free-port';
import { createTestBackends, type TestBackends, waitFor } from '../support/harness';
import { TEST_BUILD } from '../support/test-build';

// `npm start` is `nest build && exec node dist/dev.js`: the shell hands its pid to node, so npm's signals reach
// the dev process itself. These tests run src/dev.ts the same way (as this run compiled it, see test-build.ts),
// as its own process in a scratch directory.
const DEV = path.join(TEST_BUILD, 'dev.js');

let backends: TestBackends;
let cwd: string;

beforeAll(async () => {
  backends = await createTestBackends();
});

afterAll(async () => {
  await backends?.cleanup();
});

interface Dev {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function startDev(env: Record<string, string | undefined>): Dev {
  cwd = mkdtempSync(path.join(tmpdir(), 'conflux-dev-'));
  return spawnDev(cwd, env);
}

function spawnDev(dir: string, env: Record<string, string | undefined>): Dev {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(DATABASE_URL|REDIS_URL|ADMIN_|PORT$)/.test(key)),
  );
  const child = spawn(process.execPath, [DEV], {
    cwd: dir,
    env: {
      ...clean,
      NODE_ENV: 'development',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  // Whole lines only: a chunk may end inside a line, and stdout and stderr each keep their own partial line.
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
    };
  };
  child.stdout?.on('data', collector());
  child.stderr?.on('data', collector());
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

const isJson = (line: string) => line.startsWith('{');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() && true));
    socket.once('error', () => resolve(false));
  });
}

describe('npm start (the dev process)', () => {
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('names every configuration problem at once and starts nothing', async () => {
    const dev = startDev({ PORT: 'eighty', WORKER_CONCURRENCY: '0', JWT_EXPIRES_IN_SECONDS: '1' });
    expect(await dev.exited).toBe(1);
    const text = dev.output.join('\n');
    for (const variable of ['PORT ("eighty")', 'WORKER_CONCURRENCY ("0")', 'JWT_EXPIRES_IN_SECONDS ("1")'])
      expect(text).toContain(variable);
    expect(text).toContain('conflux dev: failed to start');
    expect(existsSync(path.join(cwd, '.data/postgres'))).toBe(false);
    expect(text).not.toContain('starting embedded PostgreSQL');
  });

  it('prints the banner and the one-time admin password last, and stops what it started on SIGTERM', async () => {
    const port = await findFreePort(23000);
    const dev = startDev({ DATABASE_URL: backends.databaseUrl, PORT: String(port), LOG_LEVEL: 'info' });
    try {
      await waitFor(() => dev.output.some((line) => line.includes('(shown once')), 'the banner', 60_000);
      const lines = dev.output.filter((line) => line.trim() !== '');
      // Boot ends with the worker consuming its queues; what a running Conflux logs later may follow the banner.
      const bootDone = lines.findIndex((line) => isJson(line) && line.includes('"msg":"consuming '));
      const adminCreated = lines.findIndex((line) => line.includes('created platform admin'));
      const banner = lines.findIndex((line) => line === 'Conflux is running');
      expect(bootDone).toBeGreaterThan(-1);
      expect(banner).toBeGreaterThan(Math.max(bootDone, adminCreated));
      expect(lines.slice(banner, banner + 7)).toEqual([
        'Conflux is running',
        `  API:        http://localhost:${port}/api/v1`,
        `  Swagger UI: http://localhost:${port}/docs`,
        `  Health:     http://localhost:${port}/health`,
        '  Platform admin: admin@conflux.local',
        expect.stringMatching(/^ {2}Password: {7}\S{16}$/),
        '  (shown once; set ADMIN_PASSWORD to choose it)',
      ]);
      // Nest's module-by-module and route-by-route boot lines are debug, not info.
      expect(lines.filter(isJson).some((line) => line.includes('"context":"InstanceLoader"'))).toBe(false);

      const redisPort = Number(
        /127\.0\.0\.1:(\d+)/.exec(lines.find((l) => l.includes('redis-server at')) ?? '')?.[1],
      );
      expect(await listening(redisPort)).toBe(true);
      dev.child.kill('SIGTERM');
      expect(await dev.exited).toBe(0);
      expect(await listening(port)).toBe(false);
      expect(await listening(redisPort)).toBe(false);
    } finally {
      dev.child.kill('SIGKILL');
    }
  });

  it('says which process holds the embedded PostgreSQL data directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'conflux-dev-'));
    try {
      mkdirSync(path.join(dir, '.data/postgres'), { recursive: true });
      writeFileSync(path.join(dir, '.data/postgres/PG_VERSION'), '18\n');
      // A live process in the lock file, as a dev process killed with -9 leaves its PostgreSQL behind.
      writeFileSync(path.join(dir, '.data/postgres/postmaster.pid'), `${process.pid}\n${dir}\n`);
      const dev = spawnDev(dir, {});
      expect(await dev.exited).toBe(1);
      const text = dev.output.join('\n');
      expect(text).toContain(`PostgreSQL (pid ${process.pid}) from an earlier run still holds`);
      expect(text).toContain(`kill ${process.pid}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the port when the API port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const dev = startDev({
        DATABASE_URL: backends.databaseUrl,
        REDIS_URL: backends.env.REDIS_URL,
        PORT: String(port),
      });
      expect(await dev.exited).toBe(1);
      expect(dev.output.join('\n')).toContain(`PORT ${port} on 0.0.0.0 is already in use`);
    } finally {
      taken.close();
    }
  });
});
