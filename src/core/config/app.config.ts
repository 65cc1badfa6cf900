import { IsArray, IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvList } from './config.loader';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The HTTP process and logging. */
export class AppConfig {
  /** `development`, `test` or `production` (production refuses development-only settings). */
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  /** The API's HTTP port. */
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  /** The API's bind address. */
  @IsString()
  HOST: string = '0.0.0.0';

  /** Largest JSON body (`413 PAYLOAD_TOO_LARGE` above it): `2mb`, `512kb` or a number of bytes. */
  @Matches(/^\d+(b|kb|mb|gb)?$/i, { message: 'must be a size such as 2mb, 512kb or 1048576' })
  BODY_LIMIT: string = '2mb';

  /** Extra allowed CORS origins, comma-separated (`http://localhost:5173` is always allowed). */
  @IsArray()
  @IsString({ each: true })
  @EnvList()
  CORS_ORIGINS: string[] = [];

  /** `fatal`, `error`, `warn`, `info`, `debug` (adds Nest's boot lines), `trace` or `silent`. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** A worker serves its Prometheus metrics on this port at /metrics; 0 turns that off. */
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_METRICS_PORT: number = 0;

  /** Set by `npm start` when it launched an embedded PostgreSQL; reported by /health. */
  @IsBoolean()
  @EnvBoolean()
  EMBEDDED_POSTGRES: boolean = false;

  /** How long /health answers from its last round of checks (one round at a time); `?deep=1` checks at once. */
  @IsInt()
  @Min(0)
  HEALTH_CACHE_MS: number = 1000;

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}
