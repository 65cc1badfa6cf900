import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { JobQueue } from '../../core/queue/job-queue.service';
import { AuditService } from '../audit/audit.service';
import type {
  PipelineNodeResponse,
  PipelineStatusResponse,
  UpdatePipelineConfigDto,
} from './dto/pipeline-status.dto';
import { PipelineStatusRepository, type StageWindow } from './pipeline-status.repository';

/** The window GET /pipeline/status measures over. */
export const STATUS_WINDOW_S = 300;

/** Nodes of the dashboard's pipeline page, in flow order, with where their numbers come from. */
const NODES = [
  { id: 'ingest', queue: null, stages: [] as string[], steps: [] as string[] },
  {
    id: 'extract',
    queue: 'documents',
    stages: ['extract', 'documents'],
    steps: ['pipeline.extract', 'documents'],
  },
  { id: 'normalise', queue: 'engine', stages: ['normalise'], steps: ['pipeline.focus'] },
  { id: 'load', queue: 'engine', stages: ['load'], steps: ['pipeline.load'] },
  { id: 'dq', queue: 'engine', stages: ['dq'], steps: ['pipeline.dq'] },
] as const;

const round = (n: number, places = 3) => Math.round(n * 10 ** places) / 10 ** places;

/**
 * GET /pipeline/status and PATCH /config: the deployment's pipeline settings, read through from Postgres on every
 * request (so a change on one process is what every other process answers next), and the stages' numbers,
 * measured from what the pipeline steps and document jobs recorded plus the queues' consumers now. Nothing is
 * sampled or made up: with nothing new recorded, the answer only changes as old records leave the window.
 */
@Injectable()
export class PipelineStatusService {
  constructor(
    private readonly repository: PipelineStatusRepository,
    private readonly queues: JobQueue,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
  ) {}

  async status(): Promise<PipelineStatusResponse> {
    const [config, window, ingest, backlog, engineWorkers, documentWorkers] = await Promise.all([
      this.repository.config(),
      this.repository.window(STATUS_WINDOW_S),
      this.repository.ingest(STATUS_WINDOW_S),
      this.repository.backlog(),
      this.queues.queue('engine').getWorkersCount(),
      this.queues.queue('documents').getWorkersCount(),
    ]);
    const byStage = new Map(window.map((w) => [w.stage, w]));
    const nodes = NODES.map((node): PipelineNodeResponse => {
      if (node.id === 'ingest')
        return {
          id: node.id,
          status: ingest.documents > 0 ? 'healthy' : 'idle',
          metrics: {
            documents: ingest.documents,
            bytes: ingest.bytes,
            bytes_per_second: round(ingest.bytes / STATUS_WINDOW_S),
          },
        };
      const sum = node.stages
        .map((s) => byStage.get(s))
        .reduce<StageWindow>(
          (t, w) =>
            w
              ? {
                  ...t,
                  attempts: t.attempts + w.attempts,
                  failures: t.failures + w.failures,
                  rows: t.rows + w.rows,
                  ms: t.ms + w.ms,
                }
              : t,
          { stage: node.id, attempts: 0, failures: 0, rows: 0, ms: 0 },
        );
      const queued = node.steps.reduce((t, s) => t + (backlog[s] ?? 0), 0);
      const workers = node.id === 'extract' ? Math.min(engineWorkers, documentWorkers) : engineWorkers;
      const ratio = sum.attempts > 0 ? sum.failures / sum.attempts : 0;
      const status =
        workers === 0
          ? 'down'
          : ratio > 0.5 || queued > 100 * workers
            ? 'degraded'
            : sum.attempts > 0
              ? 'healthy'
              : 'idle';
      return {
        id: node.id,
        status,
        metrics: {
          rows: sum.rows,
          rows_per_second: round(sum.rows / STATUS_WINDOW_S),
          attempts: sum.attempts,
          failures: sum.failures,
          failure_ratio: round(ratio),
          avg_ms: sum.attempts > 0 ? Math.round(sum.ms / sum.attempts) : 0,
          backlog: queued,
          workers,
        },
      };
    });
    const moved = (byStage.get('load')?.rows ?? 0) + (byStage.get('documents')?.rows ?? 0);
    return {
      mode: config.mode,
      batch_size: config.batch_size,
      model: config.model,
      version: config.version,
      throughput: round(moved / STATUS_WINDOW_S),
      window_seconds: STATUS_WINDOW_S,
      nodes,
    };
  }

  async update(principal: Principal, changes: UpdatePipelineConfigDto): Promise<PipelineStatusResponse> {
    await this.tx.run(async () => {
      const before = await this.repository.config();
      const after = await this.repository.update(changes, principal.user_id ?? principal.via);
      await this.audit.record({
        tenantId: null,
        eventType: 'pipeline.config.updated',
        resourceType: 'pipeline_config',
        resourceId: String(after.version),
        details: {
          changes: { ...changes },
          before: {
            mode: before.mode,
            batch_size: before.batch_size,
            model: before.model,
            version: before.version,
          },
        },
      });
    });
    return this.status();
  }
}
