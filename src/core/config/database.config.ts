import { IsBoolean, IsInt, IsString, Matches, Min } from 'class-validator';
import { EnvBoolean } from './config.loader';

export class DatabaseConfig {
  /** `postgres://user:pass@host:5432/db`; required (`npm start` provides an embedded PostgreSQL when unset). */
  @IsString({ message: 'is required (or use `npm start`, which starts an embedded PostgreSQL)' })
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  /**
   * The API applies pending migrations at boot (under an advisory lock, so several API processes may boot
   * together); workers never migrate.
   */
  @IsBoolean()
  @EnvBoolean()
  MIGRATIONS_RUN: boolean = true;

  /** Database connections per process. */
  @IsInt()
  @Min(1)
  DATABASE_POOL_SIZE: number = 10;
}
