import { parse } from 'libpg-query';
import { QueryRefusedException } from './data.exceptions';

/**
 * Functions refused by name, with the reason the error gives. The tenant role's rights are the wall (it cannot
 * write, read files, signal backends or switch roles whatever it calls); this list turns what would be a
 * permission error, a silent side effect or a long wait into a 400 that names the function. Matched on the
 * unqualified, lower-cased name.
 */
const REFUSED_FUNCTIONS: Array<[RegExp, string]> = [
  [/^pg_sleep/, 'it sleeps'],
  [/advisory/, 'it takes advisory locks'],
  [/^(set_config)$/, 'it changes settings'],
  [/^(nextval|setval)$/, 'it changes a sequence'],
  [/^(txid_current|pg_current_xact_id)$/, 'it starts a write transaction'],
  [/^(lo_|loread$|lowrite$)/, 'it reads or writes large objects'],
  [/^(pg_read_file|pg_read_binary_file|pg_ls_|pg_stat_file|pg_file_)/, 'it reads server files'],
  [
    /^(pg_terminate_backend|pg_cancel_backend|pg_signal_backend|pg_reload_conf|pg_rotate_logfile|pg_log_backend_memory_contexts|pg_promote)$/,
    'it signals the server or other sessions',
  ],
  [/^pg_notify$/, 'it sends notifications'],
  [/^dblink/, 'it connects to other databases'],
  [
    /^(query_to_xml|query_to_xmlschema|query_to_xml_and_xmlschema|cursor_to_xml|cursor_to_xmlschema|table_to_xml|table_to_xmlschema|table_to_xml_and_xmlschema|schema_to_xml|schema_to_xmlschema|schema_to_xml_and_xmlschema|database_to_xml|database_to_xmlschema|database_to_xml_and_xmlschema|ts_stat|ts_rewrite)$/,
    'it runs SQL text of its own',
  ],
  [
    /^pg_(stat_reset|switch_wal|create_restore_point|backup_|start_backup|stop_backup|wal_replay_|create_physical_replication_slot|create_logical_replication_slot|drop_replication_slot|copy_\w+_replication_slot|replication_slot_advance|replication_origin_|logical_slot_|logical_emit_message|import_system_collations)/,
    'it administers the server',
  ],
];

export interface CheckedStatement {
  /** `select` (including WITH, VALUES and TABLE) or `explain` of one. */
  readonly kind: 'select' | 'explain';
  /** The highest `$n` the statement uses; exactly that many params must be given. */
  readonly params: number;
}

const LOCKING_CLAUSES: Record<string, string> = {
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORUPDATE: 'FOR UPDATE',
};

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const STATEMENT_NAMES: Record<string, string> = {
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  CreateStmt: 'CREATE TABLE',
  TransactionStmt: 'a transaction command',
};

/** `InsertStmt` -> `INSERT`, `AlterTableStmt` -> `ALTER TABLE`, `VariableSetStmt` -> `SET`: for messages. */
const statementName = (key: string) =>
  STATEMENT_NAMES[key] ??
  key
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();

/** Statements accepted lately, by their exact text: a dashboard, a poll or a step sends the same SQL again. */
const accepted = new Map<string, CheckedStatement>();
const MAX_ACCEPTED = 1000;
/** Longer statements are checked every time (the cache holds at most about MAX_ACCEPTED x this). */
const MAX_ACCEPTED_LENGTH = 8192;

/**
 * Accepts exactly one read-only query: a SELECT (with WITH, VALUES, TABLE, set operations) or EXPLAIN of one,
 * without INTO, without locking clauses, without data-modifying CTEs, calling no refused function, with exactly
 * `paramCount` params for its `$n`. Parses with Postgres's own parser (libpg-query), so what is checked is what the
 * server will run; anything else is a `QueryRefusedException` saying why. The statement is then sent on its own
 * with the extended protocol, which refuses a second statement by itself. A text accepted once is not parsed
 * again while it stays among the last MAX_ACCEPTED (the verdict depends on nothing else).
 */
export async function checkStatement(sql: string, paramCount: number): Promise<CheckedStatement> {
  let verdict = accepted.get(sql);
  // Taken out and put back: the Map's order is then least recently used first.
  if (verdict) accepted.delete(sql);
  else verdict = await analyse(sql);
  if (sql.length <= MAX_ACCEPTED_LENGTH) {
    if (accepted.size >= MAX_ACCEPTED) accepted.delete(accepted.keys().next().value as string);
    accepted.set(sql, verdict);
  }
  const highestParam = verdict.params;
  if (highestParam !== paramCount) {
    throw new QueryRefusedException(
      'params',
      highestParam === 0
        ? `The query uses no $n placeholders but ${paramCount} params were given`
        : `The query uses $1..$${highestParam}; give exactly ${highestParam} params (got ${paramCount})`,
      { expected: highestParam, given: paramCount },
    );
  }
  return verdict;
}

async function analyse(sql: string): Promise<CheckedStatement> {
  if (sql.trim() === '') throw new QueryRefusedException('empty', 'The query has no statement');
  let tree: { stmts?: Array<{ stmt?: Node }> };
  try {
    tree = await parse(sql);
  } catch (error) {
    const e = error as Error & { sqlDetails?: { message?: string; cursorPosition?: number } };
    const position = e.sqlDetails?.cursorPosition;
    throw new QueryRefusedException('syntax', e.sqlDetails?.message ?? e.message, {
      sqlstate: '42601',
      ...(typeof position === 'number' ? { position: position + 1 } : {}),
    });
  }
  const statements = (tree.stmts ?? []).filter((s) => s.stmt);
  if (statements.length === 0) throw new QueryRefusedException('empty', 'The query has no statement');
  if (statements.length > 1) {
    throw new QueryRefusedException(
      'multiple_statements',
      `Send one statement at a time; this has ${statements.length}`,
      { statements: statements.length },
    );
  }
  const stmt = statements[0].stmt as Node;
  const [key] = Object.keys(stmt);
  let kind: CheckedStatement['kind'] = 'select';
  let select: unknown = stmt.SelectStmt;
  if (key === 'ExplainStmt') {
    kind = 'explain';
    const query = (stmt.ExplainStmt as Node).query;
    select = isNode(query) ? query.SelectStmt : undefined;
    if (!select) {
      const inner = isNode(query) ? Object.keys(query)[0] : 'nothing';
      throw notSelect(inner, 'EXPLAIN is allowed of a SELECT only');
    }
  } else if (key !== 'SelectStmt') {
    throw notSelect(key);
  }
  return { kind, params: checkTree(select) };
}

function notSelect(
  key: string,
  lead = 'Only SELECT queries run here (WITH, VALUES, TABLE and EXPLAIN of one too)',
) {
  return new QueryRefusedException('not_select', `${lead}; this is ${statementName(key)}`, {
    statement: statementName(key),
  });
}

/** Walks the whole tree (iteratively: a deeply nested query must not overflow the stack); the highest `$n`. */
function checkTree(root: unknown): number {
  let highestParam = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    if (!isNode(value)) continue;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'FuncCall' && isNode(child)) checkFunction(child);
      else if (key === 'CommonTableExpr' && isNode(child)) {
        const query = child.ctequery;
        const inner = isNode(query) ? Object.keys(query)[0] : undefined;
        if (inner && inner !== 'SelectStmt') {
          throw new QueryRefusedException(
            'writable_cte',
            `WITH ${String(child.ctename)} AS (${statementName(inner)} ...) changes data; only SELECT is allowed`,
            { statement: statementName(inner) },
          );
        }
      } else if (key === 'intoClause' && child) {
        throw new QueryRefusedException(
          'into',
          'SELECT ... INTO creates a table; only plain SELECT is allowed',
        );
      } else if (key === 'lockingClause' && Array.isArray(child) && child.length > 0) {
        const strength = (child[0] as { LockingClause?: { strength?: string } }).LockingClause?.strength;
        const clause = LOCKING_CLAUSES[strength ?? ''] ?? 'FOR UPDATE';
        throw new QueryRefusedException('locking', `${clause} locks rows; the sandbox only reads`, {
          clause,
        });
      } else if (key.endsWith('Stmt') && key !== 'SelectStmt') {
        throw notSelect(key);
      } else if (key === 'ParamRef' && isNode(child)) {
        highestParam = Math.max(highestParam, Number(child.number ?? 0));
      }
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return highestParam;
}

function checkFunction(call: Node): void {
  const names = (Array.isArray(call.funcname) ? call.funcname : []).map((part) =>
    String((part as { String?: { sval?: string } }).String?.sval ?? ''),
  );
  const name = names[names.length - 1]?.toLowerCase() ?? '';
  const qualified = names.join('.');
  if (names.length > 1 && !(names.length === 2 && names[0] === 'pg_catalog')) {
    throw new QueryRefusedException(
      'function',
      `Function ${qualified}() is not allowed: only built-in (pg_catalog) functions may be called`,
      { function: qualified },
    );
  }
  for (const [pattern, why] of REFUSED_FUNCTIONS) {
    if (pattern.test(name))
      throw new QueryRefusedException('function', `Function ${name}() is not allowed: ${why}`, {
        function: name,
      });
  }
}
