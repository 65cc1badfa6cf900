import { describe, expect, it } from '@jest/globals';
import { QueryRefusedException } from './data.exceptions';
import { checkStatement } from './sql-guard';

async function refusal(
  sql: string,
  params = 0,
): Promise<{ reason: string; message: string; details: unknown }> {
  try {
    await checkStatement(sql, params);
  } catch (error) {
    if (error instanceof QueryRefusedException)
      return { reason: error.reason, message: error.message, details: error.details };
    throw error;
  }
  throw new Error(`accepted: ${sql}`);
}

describe('sql guard', () => {
  it.each([
    'SELECT 1',
    'select * from tenant_pipeline_runs r join tenant_step_logs s using (pipeline_logging_id)',
    'WITH x AS (SELECT 1 AS a) SELECT a FROM x',
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n',
    'VALUES (1, 2), (3, 4)',
    'TABLE tenant_dq_results',
    'SELECT 1 UNION SELECT 2 EXCEPT SELECT 3',
    'EXPLAIN SELECT 1',
    'EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM generate_series(1, 10)',
    'SELECT pg_catalog.lower($1), upper($2)',
    "SELECT extract(year FROM now()), substring('abc' FROM 2), trim(' x ')",
    'SELECT currval($1)',
    '  select 1;  ',
    'SELECT 1 -- a comment',
  ])('accepts %s', async (sql) => {
    const params = (sql.match(/\$\d/g) ?? []).length;
    await expect(checkStatement(sql, params)).resolves.toMatchObject({
      kind: sql.trim().toUpperCase().startsWith('EXPLAIN') ? 'explain' : 'select',
    });
  });

  it('reports syntax errors with Postgres’s message and a 1-based position', async () => {
    expect(await refusal('SELECT 1 FROM')).toMatchObject({
      reason: 'syntax',
      message: 'syntax error at end of input',
      details: { sqlstate: '42601', position: 14 },
    });
    expect((await refusal('selec 1')).details).toMatchObject({ position: 1 });
  });

  it.each([
    ['', 'empty'],
    ['-- nothing', 'empty'],
    ['SELECT 1; SELECT 2', 'multiple_statements'],
    ['SELECT 1; DELETE FROM t', 'multiple_statements'],
    ['INSERT INTO t VALUES (1)', 'not_select'],
    ['UPDATE t SET a = 1', 'not_select'],
    ['DELETE FROM t', 'not_select'],
    ['TRUNCATE t', 'not_select'],
    ['CREATE TABLE x (a int)', 'not_select'],
    ['DROP TABLE t', 'not_select'],
    ['ALTER TABLE t ADD COLUMN b int', 'not_select'],
    ['GRANT SELECT ON t TO PUBLIC', 'not_select'],
    ["COPY (SELECT 1) TO PROGRAM 'id'", 'not_select'],
    ['SET ROLE postgres', 'not_select'],
    ['RESET ROLE', 'not_select'],
    ['SET SESSION AUTHORIZATION postgres', 'not_select'],
    ['EXPLAIN DELETE FROM t', 'not_select'],
    ['EXPLAIN ANALYZE INSERT INTO t VALUES (1)', 'not_select'],
    ['DO $$ BEGIN PERFORM 1; END $$', 'not_select'],
    ['CALL p()', 'not_select'],
    ['SELECT 1 INTO copy_of', 'into'],
    ['SELECT * FROM t FOR UPDATE', 'locking'],
    ['SELECT * FROM t FOR SHARE', 'locking'],
    ['SELECT * FROM (SELECT * FROM t FOR NO KEY UPDATE) s', 'locking'],
    ['WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x', 'writable_cte'],
    ['WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1', 'writable_cte'],
    ['WITH a AS (SELECT 1), b AS (UPDATE t SET a = 2 RETURNING a) SELECT * FROM a', 'writable_cte'],
  ])('refuses %s (%s)', async (sql, reason) => {
    expect((await refusal(sql)).reason).toBe(reason);
  });

  it.each([
    ['SELECT pg_sleep(60)', 'pg_sleep', 'it sleeps'],
    ['SELECT pg_sleep_for(interval $$1 minute$$)', 'pg_sleep_for', 'it sleeps'],
    ['SELECT * FROM pg_catalog.pg_sleep(1)', 'pg_sleep', 'it sleeps'],
    ['SELECT pg_advisory_lock(1)', 'pg_advisory_lock', 'advisory'],
    ['SELECT pg_try_advisory_xact_lock(1, 2)', 'pg_try_advisory_xact_lock', 'advisory'],
    ["SELECT set_config('role', 'other', true)", 'set_config', 'changes settings'],
    ["SELECT PG_CATALOG.SET_CONFIG('statement_timeout', '0', false)", 'set_config', 'changes settings'],
    ["SELECT nextval('s')", 'nextval', 'sequence'],
    ["SELECT setval('s', 10)", 'setval', 'sequence'],
    ["SELECT pg_read_file('/etc/passwd')", 'pg_read_file', 'server files'],
    ["SELECT pg_ls_dir('.')", 'pg_ls_dir', 'server files'],
    ["SELECT lo_import('/etc/passwd')", 'lo_import', 'large objects'],
    ['SELECT lo_create(0)', 'lo_create', 'large objects'],
    ['SELECT pg_terminate_backend(1)', 'pg_terminate_backend', 'signals'],
    ['SELECT pg_cancel_backend(1)', 'pg_cancel_backend', 'signals'],
    ["SELECT pg_notify('c', 'x')", 'pg_notify', 'notifications'],
    ["SELECT dblink('host=x', 'select 1')", 'dblink', 'other databases'],
    ["SELECT query_to_xml('select 1', true, true, '')", 'query_to_xml', 'SQL text'],
    ['SELECT txid_current()', 'txid_current', 'write transaction'],
    // Anywhere in the tree: a subquery, a CTE, a join, an argument, EXPLAIN.
    ['SELECT (SELECT pg_sleep(1))', 'pg_sleep', 'sleeps'],
    ['WITH x AS (SELECT pg_sleep(1)) SELECT 1', 'pg_sleep', 'sleeps'],
    ['SELECT coalesce(NULL, lower(set_config($1, $2, true)))', 'set_config', 'settings'],
    ['EXPLAIN ANALYZE SELECT pg_sleep(1)', 'pg_sleep', 'sleeps'],
    ['SELECT 1 FROM generate_series(1, 2) g JOIN LATERAL pg_sleep(g) ON true', 'pg_sleep', 'sleeps'],
  ])('refuses %s, naming %s', async (sql, fn, why) => {
    const params = (sql.match(/\$\d/g) ?? []).length;
    const refused = await refusal(sql, params);
    expect(refused).toMatchObject({ reason: 'function', details: { function: fn } });
    expect(refused.message).toContain(`${fn}()`);
    expect(refused.message).toContain(why);
  });

  it('refuses functions named with a schema other than pg_catalog', async () => {
    expect(await refusal('SELECT public.my_function()')).toMatchObject({
      reason: 'function',
      details: { function: 'public.my_function' },
    });
  });

  it('wants exactly as many params as the highest $n', async () => {
    await expect(checkStatement('SELECT $1::int + $2::int', 2)).resolves.toEqual({
      kind: 'select',
      params: 2,
    });
    expect(await refusal('SELECT $1::int', 2)).toMatchObject({
      reason: 'params',
      details: { expected: 1, given: 2 },
    });
    expect(await refusal('SELECT 1', 1)).toMatchObject({ reason: 'params' });
  });

  it('checks the params of a statement it accepted before, and again after refusing them', async () => {
    const sql = 'SELECT $1::int * 2 AS twice';
    await expect(checkStatement(sql, 1)).resolves.toEqual({ kind: 'select', params: 1 });
    expect(await refusal(sql, 0)).toMatchObject({ reason: 'params', details: { expected: 1, given: 0 } });
    await expect(checkStatement(sql, 1)).resolves.toEqual({ kind: 'select', params: 1 });
  });

  it('walks deeply nested queries without overflowing the stack', async () => {
    const deep = `SELECT ${'('.repeat(800)}1${')'.repeat(800)}`;
    await expect(checkStatement(deep, 0)).resolves.toMatchObject({ kind: 'select' });
  });
});
