import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { EventPublisher } from '../../core/events/event-publisher';
import { RunHooks } from '../engine/run-hooks';
import type { RunEntity, RunStatus } from '../engine/persistence/entities/run.entity';
import type { PipelineStatus } from './dto/pipelines.dto';
import { PipelinesRepository } from './pipelines.repository';
import { PipelineSteps } from './steps/pipeline-steps.service';

const STATUS_OF: Partial<Record<RunStatus, PipelineStatus>> = {
  running: 'RUNNING',
  completed: 'COMPLETE',
  failed: 'FAILED',
  cancelled: 'FAILED',
};

/**
 * Keeps `tenant_pipeline_runs` in step with the engine run behind it, in the transaction that moves the run, so
 * the two never disagree; a run's end drops its staging tables. Each change is published on the tenant's
 * `pipelines` topic once committed.
 */
@Injectable()
export class PipelineRunStatus implements OnModuleInit {
  constructor(
    private readonly hooks: RunHooks,
    private readonly repository: PipelinesRepository,
    private readonly steps: PipelineSteps,
    private readonly publisher: EventPublisher,
    private readonly tx: Transactions,
  ) {}

  onModuleInit(): void {
    this.hooks.on('pipeline', (run, status, error) => this.changed(run, status, error));
  }

  private async changed(run: RunEntity, status: RunStatus, error: string | null): Promise<void> {
    const next = STATUS_OF[status];
    if (!next) return;
    const row = await this.repository.setStatus(
      run.tenant_id,
      run.id,
      next,
      next === 'FAILED' ? (error ?? status) : null,
    );
    if (next !== 'RUNNING') await this.steps.dropStage(run.id);
    if (!row) return;
    this.tx.afterCommit(() =>
      this.publisher.publish([
        {
          tenant_id: run.tenant_id,
          topic: 'pipelines',
          resource_id: row.pipeline_logging_id,
          type: 'pipeline.status',
          data: {
            pipeline_logging_id: row.pipeline_logging_id,
            pipeline_id: row.pipeline_id,
            status: row.status,
            error: row.error,
            end_time: row.end_time?.toISOString() ?? null,
            duration_ms: row.duration_ms,
          },
          timestamp: new Date().toISOString(),
        },
      ]),
    );
  }
}
