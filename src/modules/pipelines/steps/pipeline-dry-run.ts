import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transactions } from '../../../core/database/transaction';
import { DatasetRepository } from '../../data/dataset.repository';
import { quoteIdent } from '../../data/sandbox-settings';
import { PermanentStepError, type StepContext } from '../../steps/step-executor';
import { PipelinesRepository } from '../pipelines.repository';
import { DQ_CHECKS, PipelineSteps } from './pipeline-steps.service';

/** The rows of the AWS sample the dry run moves, and the table it loads them into (dropped when it ends). */
const DRY_RUN_ROWS = 25;
const DRY_RUN_TABLE = 'x_dryrun_focus';

/** The dry run's pipeline: the AWS billing template's four steps over the sample's first rows. */
const DRY_RUN_STEPS: ReadonlyArray<{ id: string; type: string; config: Record<string, unknown> }> = [
  { id: 'extract', type: 'pipeline.extract', config: { provider: 'aws', sample_rows: DRY_RUN_ROWS } },
  { id: 'focus', type: 'pipeline.focus', config: { from: 'extract' } },
  { id: 'load', type: 'pipeline.load', config: { from: 'focus', table: DRY_RUN_TABLE } },
  { id: 'dq', type: 'pipeline.dq', config: { from: 'load' } },
];

/**
 * Onboarding's dry run: a real pipeline run through the `pipeline.*` steps' own code (staging COPY, FOCUS view,
 * batched load, every data-quality check, step logs), in the onboarding transaction, then read back as the
 * tenant's restricted role. It leaves the run, its step logs and its check results in the tenant's tables
 * (`trigger_type = 'dryrun'`, which pipeline lists and quotas skip) and drops the rows it loaded. It is not an
 * engine run: that would put a workflow and a run in every new tenant, counted against its plan, and need a
 * worker before onboarding could answer.
 */
@Injectable()
export class PipelineDryRun {
  constructor(
    private readonly tx: Transactions,
    private readonly steps: PipelineSteps,
    private readonly runs: PipelinesRepository,
    private readonly datasets: DatasetRepository,
  ) {}

  /** True when every step completed, every check passed and the tenant's role sees all of it. */
  run(tenantId: string): Promise<boolean> {
    return this.tx.run(async () => {
      const runId = randomUUID();
      await this.runs.insert(tenantId, {
        pipeline_logging_id: runId,
        pipeline_id: `${tenantId}-dryrun`,
        trigger_type: 'dryrun',
        trigger_by: 'onboarding',
        details: { template: 'aws/cost/billing_cost', sample_rows: DRY_RUN_ROWS },
      });
      await this.runs.setStatus(tenantId, runId, 'RUNNING', null);
      const outputs: StepContext['context']['steps'] = {};
      try {
        for (const step of DRY_RUN_STEPS)
          outputs[step.id] = {
            status: 'completed',
            output: await this.steps.run(step.type, {
              tenantId,
              runId,
              stepId: step.id,
              attempt: 1,
              node: { id: step.id, type: step.type, data: { config: step.config } },
              config: step.config,
              context: { input: {}, steps: outputs },
              input: {},
              signal: new AbortController().signal,
            }),
          };
      } catch (error) {
        // A step that failed on the data (a check, a mapping) is a failed dry run; anything else is a fault.
        if (error instanceof PermanentStepError) return false;
        throw error;
      }
      const seen = await this.seenByTenant(tenantId, runId);
      await this.tx.rows(
        `DROP TABLE ${quoteIdent(this.datasets.schemaName(tenantId))}.${quoteIdent(DRY_RUN_TABLE)}`,
      );
      await this.steps.dropStage(runId);
      await this.runs.setStatus(tenantId, runId, seen ? 'COMPLETE' : 'FAILED', seen ? null : 'not readable');
      return seen;
    });
  }

  /** Reads the run back as the tenant's own role: its rows loaded, its four step logs, its passed checks. */
  private async seenByTenant(tenantId: string, runId: string): Promise<boolean> {
    const schema = quoteIdent(this.datasets.schemaName(tenantId));
    await this.tx.rows(`SET LOCAL ROLE ${quoteIdent(await this.datasets.roleName(tenantId))}`);
    try {
      const [row] = await this.tx.rows<{ loaded: string; logged: string; passed: string }>(
        `SELECT (SELECT count(*) FROM ${schema}.${quoteIdent(DRY_RUN_TABLE)} WHERE x_pipeline_logging_id = $1) AS loaded,
                (SELECT count(*) FROM ${schema}.tenant_step_logs WHERE pipeline_logging_id = $1 AND status = 'COMPLETE') AS logged,
                (SELECT count(*) FROM ${schema}.tenant_dq_results WHERE pipeline_logging_id = $1 AND passed) AS passed`,
        [runId],
      );
      return (
        Number(row.loaded) === DRY_RUN_ROWS &&
        Number(row.logged) === DRY_RUN_STEPS.length &&
        Number(row.passed) === DQ_CHECKS.length
      );
    } finally {
      await this.tx.rows('RESET ROLE');
    }
  }
}
