import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

/** The execution engine: step defaults, the reconciler, and the HTTP step's limits. */
export class EngineConfig {
  /** A step's time limit unless its node sets `timeout_ms`. */
  @IsInt()
  @Min(1)
  ENGINE_STEP_TIMEOUT_MS: number = 30_000;

  /** Attempts per step unless its node sets `retry.max_attempts`. */
  @IsInt()
  @Min(1)
  @Max(20)
  ENGINE_MAX_ATTEMPTS: number = 3;

  /** First retry delay unless the node sets `retry.backoff_ms`; doubles with every attempt. */
  @IsInt()
  @Min(0)
  ENGINE_BACKOFF_MS: number = 500;

  /** How often the reconciler looks for work whose job vanished (e.g. a flushed Redis). */
  @IsInt()
  @Min(500)
  ENGINE_RECONCILE_EVERY_MS: number = 10_000;

  /** How long queued or running work may go without progress before the reconciler re-delivers it. */
  @IsInt()
  @Min(100)
  ENGINE_RECONCILE_AFTER_MS: number = 15_000;

  /**
   * Child processes that evaluate JSONata expressions (transform, condition, templates), per worker process;
   * bounded ones run on the worker itself.
   */
  @IsInt()
  @Min(1)
  @Max(16)
  ENGINE_EXPRESSION_PROCESSES: number = 2;

  /** Time limit of one expression evaluation; an expression past it is stopped and its step fails. */
  @IsInt()
  @Min(10)
  ENGINE_EXPRESSION_TIMEOUT_MS: number = 1000;

  /** Finished runs (and their steps and events) are deleted this many days after they end; 0 keeps them. */
  @IsInt()
  @Min(0)
  RUN_RETENTION_DAYS: number = 30;

  /** Largest HTTP step response body read. */
  @IsInt()
  @Min(1)
  ENGINE_HTTP_MAX_BYTES: number = 1024 * 1024;

  /** Hosts (names or IPs) an HTTP step may reach even when private or loopback, comma-separated. */
  @IsOptional()
  @IsString()
  HTTP_STEP_ALLOW_HOSTS?: string;
}
