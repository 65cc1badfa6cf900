import { Redis } from 'ioredis';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/core/database/embedded-postgres';
import { startLocalRedis } from '../../src/core/queue/local-redis';

/** Where the test servers are: real ones by default, or the embedded/spawned fallbacks global setup started. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://root@127.0.0.1:5432/postgres';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export function testDatabaseServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
}

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL;
}

export async function postgresReachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisReachable(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // the probe's answer is the connect() result
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Before the test run: keeps reachable servers, otherwise starts an embedded PostgreSQL and a redis-server
 * and exports their URLs (test processes and the workers they spawn inherit them). Returns the teardown.
 */
export async function prepareTestBackends(): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  if (!(await postgresReachable(testDatabaseServerUrl()))) {
    console.log(`${testDatabaseServerUrl()} unreachable: starting embedded PostgreSQL for the tests`);
    const pg = await startEmbeddedPostgres({ dataDir: '.data/test-postgres', database: 'postgres' });
    process.env.TEST_DATABASE_URL = pg.url;
    stops.push(() => pg.stop());
  }
  if (!(await redisReachable(testRedisUrl()))) {
    const redis = await startLocalRedis();
    console.log(`${testRedisUrl()} unreachable: started redis-server at ${redis.url} for the tests`);
    process.env.TEST_REDIS_URL = redis.url;
    stops.push(() => redis.stop());
  }
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
