import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EngineConfig } from '../../../core/config/engine.config';
import { RedisConfig } from '../../../core/config/redis.config';
import { JobQueue } from '../../../core/queue/job-queue.service';
import { InjectRedis } from '../../../core/queue/redis.provider';
import { TERMINAL_RUN_STATUSES } from '../persistence/entities/run.entity';
import type { StepRunEntity } from '../persistence/entities/step-run.entity';
import { RunStore } from '../persistence/run-store';
import { EngineService, jobIdOf } from '../engine.service';

const PAGE = 500;

/**
 * Finds run work that Postgres says is pending but no job will deliver (Redis flushed or failed over, a
 * crash between commit and enqueue) and enqueues it again; deterministic job ids make that harmless when the
 * job was merely slow. A timer in every worker rather than a BullMQ scheduler, because it must keep running
 * when Redis has lost everything; a short Redis lock lets one worker do each round. Healthy waits (a delay or
 * a deadline still ahead, an approval without one, a child still running) are never read, and the rest is read
 * page by page, so however many runs wait, lost work behind them is found.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly runs: RunStore,
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

  async reconcile(): Promise<{ requeued: number; parents: number; admitted: number }> {
    let requeued = 0;
    let parents = 0;
    let after: { updated_at: Date; id: string } | undefined;
    for (;;) {
      const page = await this.runs.stalledStepsForEngine(this.config.ENGINE_RECONCILE_AFTER_MS, PAGE, after);
      for (const step of page) {
        if (step.status !== 'waiting') requeued += await this.ensureJob(step, 'execute');
        else if (!step.child_key) requeued += await this.ensureJob(step, 'approval-timeout');
        else parents += await this.childOf(step, step.child_key, step.child_status);
      }
      if (page.length < PAGE) break;
      const last = page[page.length - 1];
      after = { updated_at: last.updated_at, id: last.id };
    }
    let admitted = 0;
    for (const tenantId of await this.runs.tenantsWithHeldRuns())
      admitted += await this.engine.admitHeld(tenantId);
    if (requeued + parents + admitted > 0)
      this.logger.log(
        `re-delivered ${requeued} step job(s), ${parents} sub-workflow result(s) or start(s); admitted ${admitted} held run(s)`,
      );
    return { requeued, parents, admitted };
  }

  /**
   * Re-adds the step's job (due at its `not_before`) unless BullMQ still holds a live one: the step's own, or for
   * a step claimed by sticky execution, the job carrying it (whose redelivery would run it again).
   */
  private async ensureJob(step: StepRunEntity, kind: 'execute' | 'approval-timeout'): Promise<number> {
    const run = await this.runs.findRunForEngine(step.run_id);
    if (!run || TERMINAL_RUN_STATUSES.includes(run.status)) return 0;
    if (step.status === 'running' && step.carried_by && (await this.live(step.carried_by))) return 0;
    const delayMs = step.not_before ? Math.max(0, new Date(step.not_before).getTime() - Date.now()) : 0;
    const job = {
      tenantId: run.tenant_id,
      runId: step.run_id,
      stepId: step.step_id,
      attempt: step.attempt,
      kind,
    };
    if (await this.live(jobIdOf(job), true)) return 0;
    await this.engine.enqueue({ ...job, delayMs });
    return 1;
  }

  /** Whether BullMQ will still deliver the job; a finished one is removed when `removeDead` (its id is reused). */
  private async live(jobId: string, removeDead = false): Promise<boolean> {
    const existing = await this.jobs.queue('engine').getJob(jobId);
    if (!existing) return false;
    const state = await existing.getState();
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized')
      return true;
    if (removeDead) await existing.remove().catch(() => undefined);
    return false;
  }

  /** A waited-on child that ended (its result may be lost) is reported; one that is missing is started again. */
  private async childOf(step: StepRunEntity, childKey: string, childStatus: string | null): Promise<number> {
    if (childStatus === null) {
      await this.engine.restartChild(step);
      return 1;
    }
    const child = await this.runs.childRunByKeyForEngine(step.tenant_id, childKey);
    if (!child) return 0;
    await this.engine.notifyParent(child.id);
    return 1;
  }
}
