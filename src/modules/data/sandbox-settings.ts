import type { DataConfig } from '../../core/config/data.config';

export const quoteIdent = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** How Postgres writes an identifier back (`quote_identifier`): bare when it may be, quoted otherwise. */
const displayIdent = (identifier: string) =>
  /^[a-z_][a-z0-9_$]*$/.test(identifier) ? identifier : quoteIdent(identifier);

/** One role-level default of a tenant's sandbox role. */
export interface RoleSetting {
  name: string;
  /** The value as SQL, for `ALTER ROLE ... SET name = <sql>`. */
  sql: string;
  /** How `pg_db_role_setting.setconfig` shows it once set: what an up-to-date role has. */
  stored: string;
  /** Also sent in every sandbox session's startup packet (`-c name=value`); superuser-only settings are not. */
  session?: string;
}

/**
 * The tenant role's defaults: read-only transactions, the statement, idle-in-transaction and memory limits, and a
 * search_path of its own schema and pg_catalog only. They are the wall for anyone holding the role's password;
 * sessions Conflux opens send the same values at startup, so a changed config applies before the role catches up.
 * temp_file_limit only a superuser may set on a role (and no session may raise it).
 */
export function sandboxRoleSettings(
  config: DataConfig,
  schema: string,
  limitTempFiles: boolean,
): RoleSetting[] {
  const timeout = String(config.DATA_QUERY_TIMEOUT_MS);
  const searchPath = `${displayIdent(schema)}, pg_catalog`;
  const settings: RoleSetting[] = [
    { name: 'default_transaction_read_only', sql: 'on', stored: 'on', session: 'on' },
    { name: 'statement_timeout', sql: timeout, stored: timeout, session: timeout },
    { name: 'idle_in_transaction_session_timeout', sql: timeout, stored: timeout, session: timeout },
    {
      name: 'work_mem',
      sql: `'${config.DATA_WORK_MEM}'`,
      stored: config.DATA_WORK_MEM,
      session: config.DATA_WORK_MEM,
    },
    { name: 'TimeZone', sql: `'UTC'`, stored: 'UTC', session: 'UTC' },
    {
      name: 'search_path',
      sql: `${quoteIdent(schema)}, pg_catalog`,
      stored: searchPath,
      session: `${quoteIdent(schema)},pg_catalog`,
    },
  ];
  if (limitTempFiles) {
    settings.push({
      name: 'temp_file_limit',
      sql: `'${config.DATA_TEMP_FILE_LIMIT}'`,
      stored: config.DATA_TEMP_FILE_LIMIT,
    });
  }
  return settings.map((s) => ({ ...s, stored: `${s.name}=${s.stored}` }));
}

/** The `options` startup parameter of a sandbox session. */
export function sessionOptions(settings: RoleSetting[]): string {
  return settings
    .filter((s) => s.session !== undefined)
    .map((s) => `-c ${s.name}=${s.session}`)
    .join(' ');
}
