import { IsArray, IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvList } from './config.loader';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The HTTP process and logging. */
export class AppConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  /** A body-parser size such as `2mb`, `512kb` or a number of bytes. */
  @Matches(/^\d+(b|kb|mb|gb)?$/i, { message: 'must be a size such as 2mb, 512kb or 1048576' })
  BODY_LIMIT: string = '2mb';

  @IsArray()
  @IsString({ each: true })
  @EnvList()
  CORS_ORIGINS: string[] = [];

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

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}
