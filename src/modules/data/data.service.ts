import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { FieldDef } from 'pg';
import { DataConfig } from '../../core/config/data.config';
import { AppException, ValidationFailedException } from '../../core/http/app.exception';
import { PoliciesService } from '../policies/policies.service';
import { DatasetNotFoundException, QueryRefusedException } from './data.exceptions';
import { DataMetrics, type QueryOutcome } from './data.metrics';
import { DatasetRepository } from './dataset.repository';
import type { DataColumn, DataQueryResponse, DataTablesResponse } from './dto/data.dto';
import { QueryAuditLog } from './query-audit';
import { mapQueryError, outcomeOf } from './query-errors';
import { SandboxRunner } from './sandbox-runner';
import { checkStatement } from './sql-guard';

export interface DataQueryInput {
  sql: string;
  params?: unknown[];
  limit?: number;
}

/** Where a query comes from, for the audit log and the metrics; the step's abort signal and smaller byte cap. */
export interface QueryOrigin {
  via: 'api' | 'workflow';
  runId?: string;
  stepId?: string;
  signal?: AbortSignal;
  /** Below DATA_MAX_RESULT_BYTES (a step's output is stored in its run). */
  maxBytes?: number;
}

const MAX_CACHED_TYPES = 10_000;

/**
 * SQL over a tenant's own data. Isolation is by construction: the statement is parsed and must be one read-only
 * SELECT; it runs in a session whose user is the tenant's own role (SELECT on its schema, nothing else); results
 * stream through a cursor under row, byte and time caps. Every query, refused or not, is audited (`data.query`:
 * a SHA-256 of the SQL, the outcome, row count and duration, never the rows).
 */
@Injectable()
export class DataService {
  private readonly logger = new Logger('DataSandbox');
  private readonly typeNames = new Map<string, string>();

  constructor(
    private readonly runner: SandboxRunner,
    private readonly datasets: DatasetRepository,
    private readonly audit: QueryAuditLog,
    private readonly metrics: DataMetrics,
    private readonly config: DataConfig,
    private readonly policies: PoliciesService,
  ) {}

  async query(tenantId: string, input: DataQueryInput, origin: QueryOrigin): Promise<DataQueryResponse> {
    await this.policies.assert('read', 'Dataset', { tenant_id: tenantId, operation: 'query' });
    const started = performance.now();
    const sqlSha256 = createHash('sha256').update(input.sql).digest('hex');
    const params = input.params ?? [];
    let result: DataQueryResponse;
    try {
      const maxRows = this.rowLimit(input.limit);
      await checkStatement(input.sql, params.length);
      const output = await this.runner.run(tenantId, input.sql, params, {
        maxRows,
        maxBytes: Math.min(origin.maxBytes ?? Infinity, this.config.DATA_MAX_RESULT_BYTES),
        signal: origin.signal,
      });
      result = {
        columns: await this.columns(output.fields),
        rows: output.rows,
        row_count: output.rows.length,
        truncated: output.truncated !== false,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      };
    } catch (error) {
      const mapped = mapQueryError(error, this.config.DATA_QUERY_TIMEOUT_MS);
      // A run cancelled or a step timed out: its signal says so whatever the error looks like.
      const outcome = origin.signal?.aborted ? 'aborted' : outcomeOf(mapped);
      if (mapped instanceof QueryRefusedException) this.metrics.countRefusal(mapped.reason);
      this.observe(origin, outcome, started);
      await this.record(tenantId, sqlSha256, origin, {
        outcome,
        error_code: mapped instanceof AppException ? mapped.code : 'INTERNAL_ERROR',
        ...(mapped instanceof QueryRefusedException ? { reason: mapped.reason } : {}),
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      }).catch((auditError: Error) =>
        this.logger.error(`auditing a failed query of '${tenantId}' failed: ${auditError.message}`),
      );
      throw mapped;
    }
    this.observe(origin, 'ok', started);
    await this.record(tenantId, sqlSha256, origin, {
      outcome: 'ok',
      row_count: result.row_count,
      truncated: result.truncated,
      duration_ms: result.duration_ms,
    });
    return result;
  }

  /**
   * Plans one parameterless SELECT without running it, as `query` would see it: the same guard, then `EXPLAIN` in
   * a session of the tenant's role (so unknown tables and columns, type errors and missing rights all fail).
   * Throws what `query` would throw; not audited (its caller audits what it does with the answer).
   */
  async explain(tenantId: string, sql: string, signal?: AbortSignal): Promise<void> {
    try {
      if ((await checkStatement(sql, 0)).kind !== 'select')
        throw new QueryRefusedException('not_select', 'Only a SELECT can be explained');
      const explain = `EXPLAIN (COSTS OFF) ${sql}`;
      await checkStatement(explain, 0);
      await this.runner.run(tenantId, explain, [], { maxRows: 1, maxBytes: 64 * 1024, signal });
    } catch (error) {
      throw mapQueryError(error, this.config.DATA_QUERY_TIMEOUT_MS);
    }
  }

  async tables(tenantId: string): Promise<DataTablesResponse> {
    await this.policies.assert('read', 'Dataset', { tenant_id: tenantId, operation: 'tables' });
    if (!(await this.datasets.exists(tenantId))) throw new DatasetNotFoundException(tenantId);
    const items = await this.datasets.tables(tenantId);
    return { schema: this.datasets.schemaName(tenantId), items, total: items.length };
  }

  private rowLimit(limit: number | undefined): number {
    if (limit === undefined) return Math.min(this.config.DATA_DEFAULT_ROWS, this.config.DATA_MAX_ROWS);
    if (limit > this.config.DATA_MAX_ROWS) {
      const constraint = `limit must not be greater than ${this.config.DATA_MAX_ROWS}`;
      throw new ValidationFailedException(HttpStatus.BAD_REQUEST, constraint, {
        fields: [{ field: 'limit', constraints: { max: constraint } }],
      });
    }
    return limit;
  }

  private observe(origin: QueryOrigin, outcome: QueryOutcome, started: number): void {
    this.metrics.queryDuration.observe({ via: origin.via, outcome }, (performance.now() - started) / 1000);
  }

  private record(
    tenantId: string,
    sqlSha256: string,
    origin: QueryOrigin,
    details: Record<string, unknown>,
  ): Promise<unknown> {
    return this.audit.record({
      tenantId,
      eventType: 'data.query',
      resourceType: 'dataset',
      resourceId: this.datasets.schemaName(tenantId),
      sha256: sqlSha256,
      details: {
        sql_sha256: sqlSha256,
        via: origin.via,
        ...(origin.runId ? { run_id: origin.runId, step_id: origin.stepId } : {}),
        ...details,
      },
    });
  }

  /** Result columns with Postgres's type names (looked up once per type and modifier, then cached). */
  private async columns(fields: FieldDef[]): Promise<DataColumn[]> {
    const key = (f: FieldDef) => `${f.dataTypeID}:${f.dataTypeModifier}`;
    const missing = [
      ...new Map(fields.filter((f) => !this.typeNames.has(key(f))).map((f) => [key(f), f])).values(),
    ];
    if (missing.length > 0) {
      const names = await this.datasets.typeNames(
        missing.map((f) => ({ oid: f.dataTypeID, modifier: f.dataTypeModifier })),
      );
      if (this.typeNames.size + missing.length > MAX_CACHED_TYPES) this.typeNames.clear();
      missing.forEach((f, i) => this.typeNames.set(key(f), names[i]));
    }
    return fields.map((f) => ({ name: f.name, type: this.typeNames.get(key(f)) ?? 'unknown' }));
  }
}
