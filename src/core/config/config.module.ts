import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app.config';
import { ConfigError, type Env, loadConfig } from './config.loader';
import { DatabaseConfig } from './database.config';
import { RedisConfig } from './redis.config';

const CONFIG_CLASSES = [AppConfig, DatabaseConfig, RedisConfig] as const;

/**
 * Validates every concern at once, so a misconfigured process names all of its problems before it starts.
 */
export function loadAllConfig(env: Env): Map<new () => object, object> {
  const loaded = new Map<new () => object, object>();
  const problems: string[] = [];
  for (const cls of CONFIG_CLASSES) {
    try {
      loaded.set(cls, loadConfig<object>(cls, env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
}

/** Every config class is injectable by its class. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: Env = process.env): DynamicModule {
    const providers = [...loadAllConfig(env)].map(([cls, value]) => ({ provide: cls, useValue: value }));
    return { module: ConfigModule, providers, exports: [...CONFIG_CLASSES] };
  }
}
