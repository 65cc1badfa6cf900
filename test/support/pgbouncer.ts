import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/core/net/free-port';
import { postgresReachable } from './backends';
import { waitFor } from './harness';

/** A PgBouncer in transaction mode in front of one PostgreSQL; `url(databaseUrl)` routes a URL through it. */
export interface PgBouncer {
  port: number;
  /** The same database, user and password, through PgBouncer. */
  url(databaseUrl: string): string;
  /** Every line PgBouncer logged. */
  output: string[];
  stop(): Promise<void>;
}

/** Where the Debian package installs it (`apt-get install pgbouncer`); PATH first. */
export function pgbouncerBinary(): string | undefined {
  if (!spawnSync('pgbouncer', ['--version']).error) return 'pgbouncer';
  return existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : undefined;
}

/**
 * Starts PgBouncer (pool_mode = transaction, as managed offerings run it) on a free port in front of the server
 * `serverUrl` names, with its own ini and userlist in a temporary directory. PgBouncer refuses to run as root,
 * so under root it switches to the `postgres` user (`-u`).
 */
export async function startPgBouncer(serverUrl: string): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)');
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await findFreePort(16432);
  const dir = mkdtempSync(path.join(tmpdir(), 'conflux-pgbouncer-'));
  chmodSync(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  const users = path.join(dir, 'userlist.txt');
  writeFileSync(users, `"${user}" "${password}"\n`);
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432} user=${user}${password ? ` password=${password}` : ''}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      `admin_users = ${user}`,
      'max_client_conn = 500',
      'default_pool_size = 20',
      // node-postgres sends it at connect. `options` is not ignored: a connection that needs startup settings (the
      // data sandbox) must not go through PgBouncer, and is refused if it tries.
      'ignore_startup_parameters = extra_float_digits',
      'server_reset_query =',
      '',
    ].join('\n'),
  );
  for (const file of [ini, users]) chmodSync(file, 0o644);
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), ini], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (databaseUrl: string) =>
    Object.assign(new URL(databaseUrl), { hostname: '127.0.0.1', port: String(port) }).href;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`pgbouncer exited:\n${output.join('\n')}`);
        return postgresReachable(url(serverUrl));
      },
      'pgbouncer to accept connections',
      15_000,
      100,
    );
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url,
    output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
