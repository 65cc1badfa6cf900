import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** A Postgres memory or disk size: `8MB`, `512kB`, `1GB` (Postgres's units, case-sensitive). */
const PG_SIZE = /^\d+(kB|MB|GB|TB)?$/;

/** The tenant data sandbox: `POST /data/query`, `GET /data/tables` and the `sql.query` step. */
export class DataConfig {
  /** 32 random bytes, base64 or hex (`openssl rand -base64 32`), encrypting sandbox role passwords; required in production. */
  @IsOptional()
  @Matches(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=|[A-Za-z0-9_-]{43})$/, {
    message: 'must be 32 bytes as base64 (44 characters) or hex (64 characters)',
  })
  DATA_ENCRYPTION_KEY?: string;

  /** A sandbox query's time limit (the tenant role's statement_timeout); past it: QUERY_TIMEOUT. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DATA_QUERY_TIMEOUT_MS: number = 10_000;

  /** Rows a query returns when it names no `limit`. */
  @IsInt()
  @Min(1)
  DATA_DEFAULT_ROWS: number = 1000;

  /** The largest `limit` a query may name (a larger one: 400). */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  DATA_MAX_ROWS: number = 10_000;

  /** Result size cap in bytes (as JSON); rows past it are cut and the answer says `truncated: true`. */
  @IsInt()
  @Min(1024)
  DATA_MAX_RESULT_BYTES: number = 5 * 1024 * 1024;

  /** work_mem of sandbox sessions: memory per sort or hash before it spills to disk. */
  @Matches(PG_SIZE, { message: 'must be a Postgres size such as 8MB or 512kB' })
  DATA_WORK_MEM: string = '8MB';

  /** temp_file_limit of sandbox roles (temporary disk per query; -1: none); only a superuser can set it. */
  @Matches(/^(-1|\d+(kB|MB|GB|TB)?)$/, { message: 'must be -1 or a Postgres size such as 512MB' })
  DATA_TEMP_FILE_LIMIT: string = '512MB';

  /** Sandbox connections one tenant may hold in one process. */
  @IsInt()
  @Min(1)
  DATA_POOL_SIZE: number = 4;

  /** Sandbox connections one process may hold over all tenants. */
  @IsInt()
  @Min(1)
  DATA_MAX_CONNECTIONS: number = 20;

  /** An idle sandbox connection closes after this long. */
  @IsInt()
  @Min(100)
  DATA_POOL_IDLE_MS: number = 10_000;

  /** Tenant pools one process keeps; past it the least recently used idle pool is closed. */
  @IsInt()
  @Min(1)
  DATA_MAX_POOLS: number = 100;

  /** How long a query waits for a sandbox connection before 503 DB_UNAVAILABLE. */
  @IsInt()
  @Min(100)
  DATA_ACQUIRE_TIMEOUT_MS: number = 5_000;

  /** CONNECTION LIMIT of each tenant role, over all processes (a leaked password cannot take more). */
  @IsInt()
  @Min(1)
  DATA_ROLE_CONNECTION_LIMIT: number = 20;
}
