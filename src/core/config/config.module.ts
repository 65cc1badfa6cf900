import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AiConfig } from './ai.config';
import { AppConfig } from './app.config';
import { AuthConfig } from './auth.config';
import { ConfigError, type Env, loadConfig } from './config.loader';
import { DataConfig } from './data.config';
import { DatabaseConfig } from './database.config';
import { DocumentsConfig } from './documents.config';
import { EngineConfig } from './engine.config';
import { ObservabilityConfig } from './observability.config';
import { RateLimitConfig } from './rate-limit.config';
import { RealtimeConfig } from './realtime.config';
import { RedisConfig } from './redis.config';
import { SecretsConfig } from './secrets.config';
import { SigningConfig } from './signing.config';
import { SsoConfig } from './sso.config';
import { StorageConfig } from './storage.config';

type ConfigClass = new () => object;

/** What each process reads: the worker has no use for the API's auth settings. */
export const CONFIG_CLASSES: Record<'api' | 'worker', ConfigClass[]> = {
  api: [
    AppConfig,
    AuthConfig,
    DatabaseConfig,
    RedisConfig,
    RateLimitConfig,
    EngineConfig,
    RealtimeConfig,
    StorageConfig,
    DataConfig,
    AiConfig,
    DocumentsConfig,
    ObservabilityConfig,
    SecretsConfig,
    SsoConfig,
    SigningConfig,
  ],
  worker: [
    AppConfig,
    DatabaseConfig,
    RedisConfig,
    EngineConfig,
    StorageConfig,
    DataConfig,
    DocumentsConfig,
    ObservabilityConfig,
    SecretsConfig,
  ],
};

/** Every class any process reads (what `npm start`, running both, checks before it starts anything). */
export const ALL_CONFIG_CLASSES: ConfigClass[] = [...new Set(Object.values(CONFIG_CLASSES).flat())];

/**
 * Validates every concern at once, so a misconfigured process names all of its problems before it starts.
 */
export function loadAllConfig(
  env: Env,
  classes: ConfigClass[] = CONFIG_CLASSES.api,
): Map<ConfigClass, object> {
  const loaded = new Map<ConfigClass, object>();
  const problems: string[] = [];
  for (const cls of classes) {
    try {
      loaded.set(cls, loadConfig<object>(cls, env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  const app = loaded.get(AppConfig) as AppConfig | undefined;
  if (app?.isProduction && (loaded.get(AuthConfig) as AuthConfig | undefined)?.AUTH_BYPASS) {
    problems.push('AUTH_BYPASS ("true"): is refused when NODE_ENV=production');
  }
  const signing = loaded.get(SigningConfig) as SigningConfig | undefined;
  if (app?.isProduction && signing && !signing.configured) {
    problems.push('SIGNING_KEY (unset): is required when NODE_ENV=production (or SIGNING_KEY_FILE)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
}

/** Every config class is injectable by its class. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: Env = process.env, role: 'api' | 'worker' = 'api'): DynamicModule {
    const loaded = loadAllConfig(env, CONFIG_CLASSES[role]);
    const providers = [...loaded].map(([cls, value]) => ({ provide: cls, useValue: value }));
    return { module: ConfigModule, providers, exports: [...loaded.keys()] };
  }
}
