import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './core/database/embedded-postgres';
import { type LocalRedis, startLocalRedis } from './core/queue/local-redis';
import { startApi } from './main';
import { runProcess } from './process';
import { startWorker } from './worker';

/**
 * `npm start`: the API and one worker in one process for local use. Without DATABASE_URL it runs an
 * embedded PostgreSQL (data in .data/postgres); without REDIS_URL it starts `redis-server` from PATH.
 * Production runs `node dist/main.js` and `node dist/worker.js` as separate processes instead.
 */
let postgres: EmbeddedPostgres | undefined;
let redis: LocalRedis | undefined;

runProcess(
  'dev',
  async () => {
    if (!process.env.JWT_SECRET) process.env.JWT_SECRET = localSecret('.data/jwt-secret');
    if (!process.env.DATABASE_URL) {
      console.log('DATABASE_URL is unset: starting embedded PostgreSQL in .data/postgres ...');
      postgres = await startEmbeddedPostgres({ dataDir: '.data/postgres', database: 'conflux' });
      process.env.DATABASE_URL = postgres.url;
      process.env.EMBEDDED_POSTGRES = 'true';
    }
    if (!process.env.REDIS_URL) {
      redis = await startLocalRedis();
      console.log(`REDIS_URL is unset: started redis-server at ${redis.url}`);
      process.env.REDIS_URL = redis.url;
    }
    const api = await startApi();
    const worker = await startWorker();
    const url = (await api.getUrl()).replace(/\[::1?\]|0\.0\.0\.0|127\.0\.0\.1/, 'localhost');
    console.log(
      `\nConflux is running\n  API:        ${url}/api/v1\n  Swagger UI: ${url}/docs\n  Health:     ${url}/health\n`,
    );
    return [worker, api];
  },
  async () => {
    await redis?.stop();
    await postgres?.stop();
  },
);

/** A random secret kept in .data, so development tokens survive restarts. */
function localSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync('.data', { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
