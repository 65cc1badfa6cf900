import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { findFreePort } from '../net/free-port';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

export class RedisServerNotFoundError extends Error {
  constructor() {
    super(
      [
        'REDIS_URL is not set and no `redis-server` was found on PATH. Either:',
        '  - install one: `apt-get install redis-server`, `brew install redis`, `dnf install redis`;',
        '  - or run one in Docker: `docker compose up -d redis`, then REDIS_URL=redis://127.0.0.1:6379;',
        '  - or point REDIS_URL at an existing Redis.',
      ].join('\n'),
    );
    this.name = 'RedisServerNotFoundError';
  }
}

/**
 * Starts `redis-server` from PATH on a free loopback port (or `port`), keeping nothing on disk, or, with
 * `dataDir`, an append-only file there written before each command is answered: a restart on the same
 * directory comes back with everything it held.
 */
export async function startLocalRedis(
  port?: number,
  options: { dataDir?: string } = {},
): Promise<LocalRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new RedisServerNotFoundError();
  port ??= await findFreePort(63790);
  const persistence = options.dataDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.dataDir]
    : ['--appendonly', 'no'];
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url, child);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitForRedis(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // not up yet: the loop tries again
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server did not answer at ${url}`);
}
