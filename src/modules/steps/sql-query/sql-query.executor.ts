import { Injectable } from '@nestjs/common';
import { AppException } from '../../../core/http/app.exception';
import { DataService } from '../../data/data.service';
import { PermanentStepError, type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

/** A step's result is stored in its run (every later step reads it), so it is capped well below the API's. */
export const SQL_STEP_MAX_BYTES = 1024 * 1024;

/**
 * `sql.query`: one read-only SELECT over the tenant's tables, through the same sandbox as POST /data/query.
 * The SQL is taken from the definition as written, never from the rendered config: `{{ }}` templates reach the
 * query only as bound parameters (`params`), so nothing a run carries can change the statement.
 */
@Injectable()
export class SqlQueryExecutor extends StepExecutor {
  constructor(private readonly data: DataService) {
    super();
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    const sql = context.node.data.config?.sql;
    const params = context.config.params;
    const limit = context.config.limit;
    if (typeof sql !== 'string') throw new PermanentStepError('sql.query needs `sql`');
    if (params !== undefined && !Array.isArray(params))
      throw new PermanentStepError('sql.query `params` must render to an array');
    try {
      const result = await this.data.query(
        context.tenantId,
        {
          sql,
          params: params as unknown[] | undefined,
          limit: typeof limit === 'number' ? limit : undefined,
        },
        {
          via: 'workflow',
          runId: context.runId,
          stepId: context.stepId,
          signal: context.signal,
          maxBytes: SQL_STEP_MAX_BYTES,
        },
      );
      const { columns, rows, row_count, truncated } = result;
      return { kind: 'completed', output: { columns, rows, row_count, truncated } };
    } catch (error) {
      // The query's own fault (refused, invalid, denied, timed out) fails the step at once; the database being
      // unavailable is retried.
      if (error instanceof AppException && error.getStatus() < 500)
        throw new PermanentStepError(`${error.code}: ${error.message}`);
      throw error;
    }
  }
}
