import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ALL_CONFIG_CLASSES, loadAllConfig } from './core/config/config.module';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './core/database/embedded-postgres';
import { printAfterLogs } from './core/logging/logger';
import { type LocalRedis, startLocalRedis } from './core/queue/local-redis';
import { startApi, startupBanner } from './main';
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
    if (!process.env.SECRETS_KEY) process.env.SECRETS_KEY = localSecret('.data/secrets-key');
    // Every config problem at once, before anything is started (the servers started below stand in for unset URLs).
    loadAllConfig(
      {
        ...process.env,
        DATABASE_URL: process.env.DATABASE_URL || 'postgres://embedded',
        REDIS_URL: process.env.REDIS_URL || 'redis://local',
      },
      ALL_CONFIG_CLASSES,
    );
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
    printAfterLogs(await startupBanner(api, 'Conflux is running'));
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
