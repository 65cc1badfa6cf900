import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EngineConfig } from '../../core/config/engine.config';
import { RedisConfig } from '../../core/config/redis.config';
import { JobQueue } from '../../core/queue/job-queue.service';
import { InjectRedis } from '../../core/queue/redis.provider';
import { TERMINAL_RUN_STATUSES } from '../runs/entities/run.entity';
import type { StepRunEntity } from '../runs/entities/step-run.entity';
import { RunsRepository } from '../runs/runs.repository';
import { EngineService, jobIdOf } from './engine.service';

const BATCH = 500;

/**
 * Finds run work that Postgres says is pending but no job will deliver (Redis flushed or failed over, a
 * crash between commit and enqueue) and enqueues it again; deterministic job ids make that harmless when the
 * job was merely slow. A timer in every worker rather than a BullMQ scheduler, because it must keep running
 * when Redis has lost everything; a short Redis lock lets one worker do each round.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly runs: RunsRepository,
    private readonly engine: EngineService,
    private readonly jobs: JobQueue,
    private readonly config: EngineConfig,
    private readonly redisConfig: RedisConfig,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.ENGINE_RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const lock = `${this.redisConfig.QUEUE_PREFIX}:reconciler-lock`;
      const owned = await this.redis.set(
        lock,
        String(process.pid),
        'PX',
        Math.max(500, this.config.ENGINE_RECONCILE_EVERY_MS - 100),
        'NX',
      );
      if (owned) await this.reconcile();
    } catch (error) {
      this.logger.warn(`reconcile failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  async reconcile(): Promise<{ requeued: number; parents: number }> {
    const stalled = await this.runs.stalledStepsForEngine(this.config.ENGINE_RECONCILE_AFTER_MS, BATCH);
    let requeued = 0;
    let parents = 0;
    for (const step of stalled) {
      if (step.status === 'waiting') {
        if (step.type === 'workflow.call') parents += await this.childEnded(step);
        else if (step.type === 'approval') requeued += await this.ensureJob(step, 'approval-timeout');
        continue;
      }
      requeued += await this.ensureJob(step, 'execute');
    }
    if (requeued + parents > 0)
      this.logger.log(`re-delivered ${requeued} step job(s), ${parents} sub-workflow result(s)`);
    return { requeued, parents };
  }

  /** Re-adds the step's job unless BullMQ still holds a live one. */
  private async ensureJob(step: StepRunEntity, kind: 'execute' | 'approval-timeout'): Promise<number> {
    const run = await this.runs.findRunForEngine(step.run_id);
    if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) return 0;
    let delayMs = 0;
    if (kind === 'approval-timeout') {
      const graph = await this.engine.graphOfRun(run);
      const timeoutMs = Number(graph.node(step.step_id).data.config?.timeout_ms ?? 0);
      if (!timeoutMs) return 0;
      delayMs = Math.max(0, new Date(step.updated_at).getTime() + timeoutMs - Date.now());
    } else if (step.not_before) {
      delayMs = Math.max(0, new Date(step.not_before).getTime() - Date.now());
    }
    const job = { runId: step.run_id, stepId: step.step_id, attempt: step.attempt, kind };
    const existing = await this.jobs.queue('engine').getJob(jobIdOf(job));
    if (existing) {
      const state = await existing.getState();
      if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized')
        return 0;
      await existing.remove().catch(() => undefined);
    }
    await this.engine.enqueue({ ...job, delayMs });
    return 1;
  }

  private async childEnded(step: StepRunEntity): Promise<number> {
    const child = await this.runs.childRunForEngine(step.run_id, step.step_id);
    if (!child || !TERMINAL_RUN_STATUSES.includes(child.status)) return 0;
    await this.engine.notifyParent(child.id);
    return 1;
  }
}
