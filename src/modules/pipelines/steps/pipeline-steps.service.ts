import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import Papa from 'papaparse';
import { from as copyFrom } from 'pg-copy-streams';
import { Transactions } from '../../../core/database/transaction';
import { DATASET_TABLES, DatasetRepository } from '../../data/dataset.repository';
import { quoteIdent } from '../../data/sandbox-settings';
import { ObjectKey } from '../../storage/object-key';
import { ObjectStorage } from '../../storage/object-storage';
import { PermanentStepError, type StepContext } from '../../steps/step-executor';
import {
  CHARGE_CATEGORIES,
  FOCUS_COLUMN_NAMES,
  FOCUS_COLUMNS,
  MANDATORY_NOT_NULL,
  SERVICE_CATEGORIES,
} from '../focus/focus-columns';
import { mappingOf } from '../providers';
import type { ProviderMapping } from '../providers/provider-mapping';
import { samplePath } from '../templates/templates-dir';
import { STAGE_SCHEMA, isDataError, stageName, stagePrefix } from './stage';

const FOCUS_TABLE_LOCK = 7_345_219;
const MAX_HEADER_BYTES = 1024 * 1024;

export interface ExtractOutput {
  stage: string;
  provider: string;
  source: 'sample' | 'document';
  document_id: string | null;
  rows: number;
  columns: number;
}

export interface FocusOutput {
  view: string;
  /** The extract's staging table the view reads. */
  stage: string;
  provider: string;
  charge_categories: string[] | null;
  service_categories: string[] | null;
  rows: number;
  by_charge_category: Record<string, number>;
}

export interface LoadOutput {
  schema: string;
  table: string;
  rows: number;
  replaced: number;
  /** INSERT statements the rows went in (`batch_size` x 1,000 rows each, from PATCH /config). */
  batches: number;
  batch_rows: number;
  view: string;
  provider: string;
  charge_categories: string[] | null;
  service_categories: string[] | null;
}

export interface CheckResult {
  check: string;
  passed: boolean;
  blocking: boolean;
  observed: Record<string, unknown>;
}

export const DQ_CHECKS = [
  'not_null_mandatory',
  'allowed_values',
  'charge_period_order',
  'list_cost_non_negative',
  'totals_reconcile',
] as const;
export type DqCheck = (typeof DQ_CHECKS)[number];

/** FOCUS column names as the tables hold them (unquoted in FOCUS, folded to lower case by Postgres). */
const col = (name: string) => name.toLowerCase();
const FILTER = `($1::text[] IS NULL OR chargecategory = ANY($1)) AND ($2::text[] IS NULL OR servicecategory = ANY($2))`;

/**
 * The `pipeline.*` steps' work, each attempt in one transaction of its own: a killed worker leaves nothing half
 * written, and a retried attempt replaces what an earlier one of the same run wrote. Data moves inside Postgres
 * (COPY into an all-text staging table, then one INSERT ... SELECT through the provider's FOCUS view); only the
 * export's bytes pass through the worker. Each attempt is logged in the tenant's `tenant_step_logs` when the run
 * is a pipeline run (the log commits with the work; a failure is logged on its own).
 */
@Injectable()
export class PipelineSteps {
  constructor(
    private readonly tx: Transactions,
    private readonly datasets: DatasetRepository,
    private readonly storage: ObjectStorage,
  ) {}

  async run(type: string, context: StepContext): Promise<unknown> {
    const started = new Date();
    let output: unknown;
    try {
      output = await this.tx.run(async () => {
        const result = await this.step(type, context);
        const failing = failedChecks(result);
        await this.measure(type, rowsOf(result), started, failing.length === 0);
        await this.log(
          context,
          started,
          failing.length > 0 ? 'FAILED' : 'COMPLETE',
          failing.length > 0 ? failureOf(failing) : summaryOf(type, result),
          result,
        );
        return result;
      });
    } catch (error) {
      const failure =
        error instanceof PermanentStepError || !isDataError(error)
          ? error
          : new PermanentStepError((error as Error).message);
      // Best effort: when the database itself failed the step, its error is the one to report.
      await this.tx
        .run(async () => {
          await this.log(context, started, 'FAILED', (failure as Error).message, {});
          await this.measure(type, 0, started, false);
        })
        .catch(() => undefined);
      throw failure;
    }
    // Failed blocking data-quality checks fail the step once their results (the record of why) committed.
    const failing = failedChecks(output);
    if (failing.length > 0) throw new PermanentStepError(failureOf(failing));
    return output;
  }

  /** Drops a finished run's staging tables and views (in the transaction that ends the run). */
  async dropStage(runId: string): Promise<void> {
    await this.dropStaged(`${stagePrefix(runId)}_`, false);
  }

  /**
   * The sweep: drops the staging tables and views of runs that are no longer open (a run started some other way
   * than POST /pipelines/run has no end hook) or no longer exist, and the stage records older than a day; the
   * number of relations dropped.
   */
  async sweep(): Promise<number> {
    await this.tx.rows(`DELETE FROM pipeline_stage_stats WHERE finished_at < now() - interval '1 day'`);
    return this.dropStaged(null, true);
  }

  /** Drops the staging relations named with `prefix` (all when null), only those of ended runs if `ended`. */
  private async dropStaged(prefix: string | null, ended: boolean): Promise<number> {
    const rows = await this.tx.rows<{ name: string; kind: string }>(
      `SELECT c.relname AS name, c.relkind AS kind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN runs ON $3::boolean AND runs.id::text = regexp_replace(substr(c.relname, 2, 32),
              '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\\1-\\2-\\3-\\4-\\5')
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'v')
          AND ($2::text IS NULL OR starts_with(c.relname, $2))
          AND (NOT $3 OR runs.id IS NULL OR runs.status IN ('completed', 'failed', 'cancelled'))
        ORDER BY c.relkind DESC`,
      [STAGE_SCHEMA, prefix, ended],
    );
    for (const row of rows)
      await this.tx.rows(
        `DROP ${row.kind === 'v' ? 'VIEW' : 'TABLE'} IF EXISTS ${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(row.name)} CASCADE`,
      );
    return rows.length;
  }

  private step(type: string, context: StepContext): Promise<unknown> {
    switch (type) {
      case 'pipeline.extract':
        return this.extract(context);
      case 'pipeline.focus':
        return this.focus(context);
      case 'pipeline.load':
        return this.load(context);
      case 'pipeline.dq':
        return this.dq(context);
      default:
        throw new PermanentStepError(`no pipeline step '${type}'`);
    }
  }

  // ---- pipeline.extract ------------------------------------------------------------------------

  private async extract(context: StepContext): Promise<ExtractOutput> {
    const mapping = this.mapping(context.config.provider);
    const documentId = typeof context.config.document_id === 'string' ? context.config.document_id : '';
    const sampleRows = context.config.sample_rows;
    const source = documentId
      ? await this.document(context.tenantId, documentId)
      : typeof sampleRows === 'number'
        ? firstLines(createReadStream(samplePath(mapping.provider)), sampleRows + 1)
        : createReadStream(samplePath(mapping.provider));
    const { header, stream } = await headerOf(source);
    const missing = mapping.requiredColumns.filter((c) => !header.includes(c));
    if (missing.length > 0)
      throw new PermanentStepError(
        `the export is not a ${mapping.exportName}: it lacks the column(s) ${missing.slice(0, 10).join(', ')}`,
      );
    const stage = stageName(context.runId, context.stepId);
    const client = await this.tx.client();
    await client.query(`DROP TABLE IF EXISTS ${stage.qualified} CASCADE`);
    await client.query(
      `CREATE UNLOGGED TABLE ${stage.qualified} (${header.map((c) => `${quoteIdent(c)} text`).join(', ')})`,
    );
    const copy = client.query(copyFrom(`COPY ${stage.qualified} FROM STDIN (FORMAT csv, HEADER true)`));
    await pipeline(stream, copy);
    return {
      stage: stage.name,
      provider: mapping.provider,
      source: documentId ? 'document' : 'sample',
      document_id: documentId || null,
      rows: Number(copy.rowCount),
      columns: header.length,
    };
  }

  private async document(tenantId: string, documentId: string): Promise<Readable> {
    const [row] = await this.tx.rows<{ storage_path: string }>(
      `SELECT storage_path FROM documents WHERE tenant_id = $1 AND id::text = $2`,
      [tenantId, documentId],
    );
    if (!row) throw new PermanentStepError(`document '${documentId}' not found`);
    return (await this.storage.get(ObjectKey.of(tenantId, row.storage_path))).stream;
  }

  // ---- pipeline.focus --------------------------------------------------------------------------

  private async focus(context: StepContext): Promise<FocusOutput> {
    const extracted = outputOf<ExtractOutput>(context, 'stage');
    const mapping = this.mapping(extracted.provider);
    const view = stageName(context.runId, context.stepId);
    const raw = `${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(extracted.stage)}`;
    const columns = FOCUS_COLUMN_NAMES.map(
      (name) => `(${mapping.focus[name]})::${FOCUS_COLUMNS[name]} AS ${col(name)}`,
    );
    await this.tx.rows(
      `CREATE OR REPLACE VIEW ${view.qualified} AS
         SELECT ${columns.join(',\n')}, (${mapping.sourceCost})::numeric AS x_source_cost,
                r.ctid AS x_ctid
           FROM ${raw} r`,
    );
    const charge = listOf(context.config.charge_categories);
    const service = listOf(context.config.service_categories);
    const counts = await this.tx.rows<{ category: string; rows: string }>(
      `SELECT chargecategory AS category, count(*) AS rows FROM ${view.qualified} WHERE ${FILTER} GROUP BY 1 ORDER BY 1`,
      [charge, service],
    );
    return {
      view: view.name,
      stage: extracted.stage,
      provider: mapping.provider,
      charge_categories: charge,
      service_categories: service,
      rows: counts.reduce((sum, c) => sum + Number(c.rows), 0),
      by_charge_category: Object.fromEntries(counts.map((c) => [c.category, Number(c.rows)])),
    };
  }

  // ---- pipeline.load ---------------------------------------------------------------------------

  private async load(context: StepContext): Promise<LoadOutput> {
    const focused = outputOf<FocusOutput>(context, 'view');
    const table = typeof context.config.table === 'string' ? context.config.table : 'focus_billing';
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(table) || (DATASET_TABLES as readonly string[]).includes(table))
      throw new PermanentStepError(`'${table}' cannot be a pipeline's table`);
    const schema = this.datasets.schemaName(context.tenantId);
    const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
    const view = `${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(focused.view)}`;
    const names = FOCUS_COLUMN_NAMES.map(col);
    await this.tx.rows('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      FOCUS_TABLE_LOCK,
      `${schema}.${table}`,
    ]);
    await this.tx.rows(
      `CREATE TABLE IF NOT EXISTS ${target} (
         ${FOCUS_COLUMN_NAMES.map((name) => `${col(name)} ${FOCUS_COLUMNS[name]}`).join(',\n')},
         x_provider text NOT NULL,
         x_pipeline_logging_id uuid NOT NULL,
         x_loaded_at timestamptz NOT NULL DEFAULT now())`,
    );
    await this.tx.rows(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_x_run`)} ON ${target} (x_pipeline_logging_id)`,
    );
    await this.tx.rows(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_x_period`)} ON ${target} (x_provider, billingaccountid, billingperiodstart)`,
    );
    await this.tx.rows(
      `GRANT SELECT ON ${target} TO ${quoteIdent(await this.datasets.roleName(context.tenantId))}`,
    );
    const filters = [focused.charge_categories, focused.service_categories];
    // A load replaces the rows this run loaded before (a retried attempt) and the rows of the same provider,
    // billing account and billing period loaded by earlier runs (a re-delivered export): never duplicates.
    const replaced = await this.tx.rows<{ n: string }>(
      `WITH gone AS (
         DELETE FROM ${target} t
          WHERE t.x_pipeline_logging_id = $3
             OR (t.x_provider = $4 AND (t.billingaccountid, t.billingperiodstart) IN
                   (SELECT DISTINCT billingaccountid, billingperiodstart FROM ${view} WHERE ${FILTER}))
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [...filters, context.runId, focused.provider],
    );
    // In batches of `batch_size` thousand rows (PATCH /config), by ranges of the staging table's pages (a TID
    // range scan each), all in this transaction.
    const batchRows = (await this.batchSize()) * 1000;
    const raw = `${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(focused.stage)}`;
    const [size] = await this.tx.rows<{ pages: string; rows: string }>(
      `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS pages,
              (SELECT count(*) FROM ${raw}) AS rows`,
      [raw],
    );
    const pages = Number(size.pages);
    const perBatch = Math.max(1, Math.floor(batchRows / Math.max(1, Number(size.rows) / Math.max(1, pages))));
    let rows = 0;
    let batches = 0;
    for (let page = 0; page < pages; page += perBatch) {
      const [put] = await this.tx.rows<{ n: string }>(
        `WITH put AS (
           INSERT INTO ${target} (${names.join(', ')}, x_provider, x_pipeline_logging_id)
           SELECT ${names.join(', ')}, $4, $3 FROM ${view}
            WHERE ${FILTER} AND x_ctid >= $5::tid AND x_ctid < $6::tid
           RETURNING 1)
         SELECT count(*) AS n FROM put`,
        [...filters, context.runId, focused.provider, `(${page},0)`, `(${page + perBatch},0)`],
      );
      rows += Number(put.n);
      batches += 1;
    }
    return {
      schema,
      table,
      rows,
      replaced: Number(replaced[0].n),
      batches,
      batch_rows: batchRows,
      view: focused.view,
      provider: focused.provider,
      charge_categories: focused.charge_categories,
      service_categories: focused.service_categories,
    };
  }

  // ---- pipeline.dq -----------------------------------------------------------------------------

  private async dq(context: StepContext): Promise<{ passed: boolean; checks: CheckResult[] }> {
    const loaded = outputOf<LoadOutput>(context, 'table');
    const requested = Array.isArray(context.config.checks)
      ? (context.config.checks as Array<{ check: DqCheck; blocking?: boolean }>)
      : DQ_CHECKS.map((check) => ({ check, blocking: true }));
    const checks: CheckResult[] = [];
    for (const { check, blocking } of requested)
      checks.push({
        check,
        blocking: blocking !== false,
        ...(await this.check(check, context.runId, loaded)),
      });
    const schema = quoteIdent(loaded.schema);
    await this.tx.rows(
      `DELETE FROM ${schema}.tenant_dq_results WHERE pipeline_logging_id = $1 AND observed->>'step_id' = $2`,
      [context.runId, context.stepId],
    );
    for (const result of checks)
      await this.tx.rows(
        `INSERT INTO ${schema}.tenant_dq_results (pipeline_logging_id, check_name, passed, observed)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM ${schema}.tenant_pipeline_runs WHERE pipeline_logging_id = $1)`,
        [
          context.runId,
          result.check,
          result.passed,
          { ...result.observed, blocking: result.blocking, step_id: context.stepId, table: loaded.table },
        ],
      );
    return { passed: checks.every((c) => c.passed), checks };
  }

  private async check(
    check: DqCheck,
    runId: string,
    loaded: LoadOutput,
  ): Promise<{ passed: boolean; observed: Record<string, unknown> }> {
    const table = `${quoteIdent(loaded.schema)}.${quoteIdent(loaded.table)}`;
    const mine = `FROM ${table} WHERE x_pipeline_logging_id = $1`;
    const one = async (sql: string, params: unknown[] = [runId]) =>
      (await this.tx.rows<Record<string, string | null>>(sql, params))[0];
    switch (check) {
      case 'not_null_mandatory': {
        const row = await one(
          `SELECT ${MANDATORY_NOT_NULL.map((c) => `count(*) FILTER (WHERE ${col(c)} IS NULL) AS ${col(c)}`).join(', ')} ${mine}`,
        );
        const nulls: Record<string, number> = {};
        for (const c of MANDATORY_NOT_NULL) if (Number(row[col(c)]) > 0) nulls[c] = Number(row[col(c)]);
        return { passed: Object.keys(nulls).length === 0, observed: { null_counts: nulls } };
      }
      case 'allowed_values': {
        const row = await one(
          `SELECT count(*) FILTER (WHERE chargecategory <> ALL($2)) AS charge,
                  count(*) FILTER (WHERE servicecategory <> ALL($3)) AS service ${mine}`,
          [runId, CHARGE_CATEGORIES, SERVICE_CATEGORIES],
        );
        const observed = {
          invalid_charge_category: Number(row.charge),
          invalid_service_category: Number(row.service),
        };
        return {
          passed: observed.invalid_charge_category + observed.invalid_service_category === 0,
          observed,
        };
      }
      case 'charge_period_order': {
        const row = await one(
          `SELECT count(*) FILTER (WHERE chargeperiodstart > chargeperiodend) AS charge,
                  count(*) FILTER (WHERE billingperiodstart > billingperiodend) AS billing ${mine}`,
        );
        const observed = {
          charge_period_reversed: Number(row.charge),
          billing_period_reversed: Number(row.billing),
        };
        return { passed: observed.charge_period_reversed + observed.billing_period_reversed === 0, observed };
      }
      case 'list_cost_non_negative': {
        const row = await one(
          `SELECT count(*) AS n ${mine} AND listcost < 0 AND chargecategory NOT IN ('Credit', 'Adjustment')`,
        );
        return { passed: Number(row.n) === 0, observed: { negative_list_cost: Number(row.n) } };
      }
      case 'totals_reconcile': {
        const loadedTotals = await one(
          `SELECT count(*) AS rows, COALESCE(sum(billedcost), 0)::text AS total ${mine}`,
        );
        const source = await one(
          `SELECT count(*) AS rows, COALESCE(sum(x_source_cost), 0)::text AS total
             FROM ${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(loaded.view)} WHERE ${FILTER}`,
          [loaded.charge_categories, loaded.service_categories],
        );
        const observed = {
          source_rows: Number(source.rows),
          loaded_rows: Number(loadedTotals.rows),
          source_total: source.total,
          loaded_total: loadedTotals.total,
        };
        const [same] = await this.tx.rows<{ same: boolean }>('SELECT $1::numeric = $2::numeric AS same', [
          source.total,
          loadedTotals.total,
        ]);
        return { passed: same.same && observed.source_rows === observed.loaded_rows, observed };
      }
      default:
        throw new PermanentStepError(`unknown data-quality check '${String(check)}'`);
    }
  }

  // ---- shared ----------------------------------------------------------------------------------

  /** The deployment's load batch size (thousands of rows), read at each load: a PATCH /config applies at once. */
  private async batchSize(): Promise<number> {
    const [row] = await this.tx.rows<{ batch_size: number }>('SELECT batch_size FROM pipeline_config');
    return row?.batch_size ?? 32;
  }

  /** What the step moved, for GET /pipeline/status (the sweep keeps a day of it). */
  private async measure(type: string, rows: number, started: Date, ok: boolean): Promise<void> {
    await this.tx.rows(
      `INSERT INTO pipeline_stage_stats (stage, rows, duration_ms, ok) VALUES ($1, $2, $3, $4)`,
      [STAGE_OF[type] ?? type, rows, Date.now() - started.getTime(), ok],
    );
  }

  private mapping(provider: unknown): ProviderMapping {
    const mapping = typeof provider === 'string' ? mappingOf(provider) : undefined;
    if (!mapping) throw new PermanentStepError(`unknown provider '${String(provider)}'`);
    return mapping;
  }

  private async log(
    context: StepContext,
    started: Date,
    status: 'COMPLETE' | 'FAILED',
    message: string,
    details: unknown,
  ): Promise<void> {
    const schema = quoteIdent(this.datasets.schemaName(context.tenantId));
    await this.tx.rows(
      `INSERT INTO ${schema}.tenant_step_logs (pipeline_logging_id, step_id, status, message, started_at, finished_at, details)
       SELECT $1, $2, $3, $4, $5, clock_timestamp(), $6
        WHERE EXISTS (SELECT 1 FROM ${schema}.tenant_pipeline_runs WHERE pipeline_logging_id = $1)`,
      [
        context.runId,
        context.stepId,
        status,
        message,
        started,
        { attempt: context.attempt, output: details },
      ],
    );
  }
}

/** The stage of GET /pipeline/status each step feeds. */
export const STAGE_OF: Readonly<Record<string, string>> = {
  'pipeline.extract': 'extract',
  'pipeline.focus': 'normalise',
  'pipeline.load': 'load',
  'pipeline.dq': 'dq',
};

const rowsOf = (output: unknown): number => {
  const rows = (output as { rows?: unknown } | null)?.rows;
  return typeof rows === 'number' ? rows : ((output as { checks?: unknown[] } | null)?.checks?.length ?? 0);
};

/** The blocking data-quality checks a step's output says failed (none for other steps). */
function failedChecks(output: unknown): string[] {
  const checks = (output as { checks?: CheckResult[] } | null)?.checks;
  return Array.isArray(checks) ? checks.filter((c) => c.blocking && !c.passed).map((c) => c.check) : [];
}

const failureOf = (failed: string[]) => `blocking data-quality check(s) failed: ${failed.join(', ')}`;

function summaryOf(type: string, output: unknown): string {
  const o = output as Record<string, unknown>;
  switch (type) {
    case 'pipeline.extract':
      return `copied ${String(o.rows)} rows from the ${String(o.source)} export`;
    case 'pipeline.focus':
      return `${String(o.rows)} rows mapped to FOCUS`;
    case 'pipeline.load':
      return `loaded ${String(o.rows)} rows into ${String(o.table)} (replaced ${String(o.replaced)})`;
    default:
      return `${(o.checks as unknown[]).length} checks, ${o.passed ? 'all passed' : 'some failed'}`;
  }
}

/** The output of the step the config's `from` names, which must have the field `key`. */
function outputOf<T>(context: StepContext, key: string): T {
  const from = context.config.from;
  const output = typeof from === 'string' ? context.context.steps[from]?.output : undefined;
  if (!output || typeof output !== 'object' || !(key in output))
    throw new PermanentStepError(
      `'from' must name an earlier step whose output has '${key}' (got '${String(from)}')`,
    );
  return output as T;
}

function listOf(value: unknown): string[] | null {
  return Array.isArray(value) && value.length > 0 ? value.map(String) : null;
}

/** The stream's first `n` lines (the shipped samples hold one record per line). */
function firstLines(source: Readable, n: number): Readable {
  async function* lines(): AsyncGenerator<Buffer> {
    let left = n;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let end = 0;
      while (left > 0 && end < chunk.length) {
        const next = chunk.indexOf(10, end);
        if (next < 0) end = chunk.length;
        else {
          end = next + 1;
          left -= 1;
        }
      }
      yield chunk.subarray(0, end);
      if (left === 0) break;
    }
    source.destroy();
  }
  return Readable.from(lines());
}

/** Reads the export's header line (the stream goes on from the start, header included, for COPY ... HEADER). */
async function headerOf(source: Readable): Promise<{ header: string[]; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let end = -1;
  while (end < 0) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
    end = head.indexOf(10);
    if (end < 0 && head.length > MAX_HEADER_BYTES)
      throw new PermanentStepError('the export has no header line');
  }
  const line = head
    .subarray(0, end < 0 ? head.length : end)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '');
  const parsed = Papa.parse<string[]>(line, { delimiter: ',' });
  if (parsed.errors.length > 0)
    throw new PermanentStepError(`the export's header is not CSV: ${parsed.errors[0].message}`);
  const header = parsed.data[0] ?? [];
  const bad = header.find((c) => c.trim() === '' || Buffer.byteLength(c) > 63);
  if (header.length === 0 || bad !== undefined)
    throw new PermanentStepError(`the export's header has an empty or over-long column name`);
  if (new Set(header).size !== header.length)
    throw new PermanentStepError(`the export's header repeats a column`);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { header, stream: Readable.from(all()) };
}
