import { describe, expect, it } from '@jest/globals';
import { CONFIG_CLASSES, loadAllConfig } from './config.module';
import { AppConfig } from './app.config';
import { ConfigError, loadConfig } from './config.loader';
import { RedisConfig } from './redis.config';

const base = { DATABASE_URL: 'postgres://u@localhost/db', REDIS_URL: 'redis://localhost:6379' };

describe('configuration', () => {
  it('applies defaults and converts types', () => {
    const app = loadConfig(AppConfig, {
      PORT: '8080',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      EMBEDDED_POSTGRES: 'false',
    });
    expect(app.PORT).toBe(8080);
    expect(app.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(app.EMBEDDED_POSTGRES).toBe(false);
    expect(app.BODY_LIMIT).toBe('2mb');
    expect(app.NODE_ENV).toBe('development');
  });

  it('names every bad or missing variable at once', () => {
    let error: unknown;
    try {
      loadAllConfig({ PORT: 'eighty', NODE_ENV: 'staging', REDIS_URL: 'localhost:6379' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'PORT ("eighty")',
      'NODE_ENV ("staging")',
      'DATABASE_URL (unset)',
      'REDIS_URL ("localhost:6379")',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('accepts only known queue names in WORKER_QUEUES', () => {
    expect(loadConfig(RedisConfig, { ...base, WORKER_QUEUES: 'maintenance' }).WORKER_QUEUES).toEqual([
      'maintenance',
    ]);
    expect(() => loadConfig(RedisConfig, { ...base, WORKER_QUEUES: 'maintenance,nope' })).toThrow(
      /WORKER_QUEUES/,
    );
  });

  it('refuses AUTH_BYPASS in production, allows it in development', () => {
    const env = { ...base, JWT_SECRET: 's'.repeat(32), AUTH_BYPASS: 'true' };
    expect(() => loadAllConfig({ ...env, NODE_ENV: 'production' })).toThrow(
      'AUTH_BYPASS ("true"): is refused when NODE_ENV=production',
    );
    expect(() => loadAllConfig({ ...env, NODE_ENV: 'development' })).not.toThrow();
  });

  it('does not ask a worker for API-only settings such as JWT_SECRET', () => {
    expect(() => loadAllConfig(base, CONFIG_CLASSES.worker)).not.toThrow();
    expect(() => loadAllConfig(base, CONFIG_CLASSES.api)).toThrow(/JWT_SECRET/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(AppConfig, { PORT: '' }).PORT).toBe(3000);
  });
});
