import { IsBoolean, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { EnvBoolean } from './config.loader';

export class DatabaseConfig {
  /** `postgres://user:pass@host:5432/db`; required (`npm start` provides an embedded PostgreSQL when unset). */
  @IsString({ message: 'is required (or use `npm start`, which starts an embedded PostgreSQL)' })
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  /**
   * A direct (not pooled) `postgres://` URL to the same database, for what needs session state: migrations (a
   * session advisory lock) and the data sandbox's per-tenant role logins. Set it when DATABASE_URL points at
   * PgBouncer in transaction mode; unset, both use DATABASE_URL. Set, the engine's statements also stop being
   * prepared (named) on DATABASE_URL, since the pooler may hand each transaction another server connection.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_DIRECT_URL?: string;

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

  /**
   * How long a query waits for a pooled database connection (all busy, or the server refusing new ones) before it
   * fails: an API request then answers 503 DB_UNAVAILABLE instead of queueing without bound.
   */
  @IsInt()
  @Min(100)
  DATABASE_ACQUIRE_TIMEOUT_MS: number = 5000;

  /** Where session state may live: DATABASE_DIRECT_URL, or DATABASE_URL when there is no pooler in between. */
  get directUrl(): string {
    return this.DATABASE_DIRECT_URL ?? this.DATABASE_URL;
  }
}
