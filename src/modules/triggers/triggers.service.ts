import { randomBytes } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../../core/config/redis.config';
import { Transactions } from '../../core/database/transaction';
import { NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';
import type { Page } from '../../core/http/pagination';
import { RateLimiter } from '../../core/http/rate-limit/rate-limiter';
import { JobQueue } from '../../core/queue/job-queue.service';
import { InjectRedis } from '../../core/queue/redis.provider';
import { AuditService } from '../audit/audit.service';
import { EngineService } from '../engine/engine.service';
import { PoliciesService } from '../policies/policies.service';
import { toRunResponse } from '../runs/runs.service';
import { toWorkflowResponse, WorkflowsService } from '../workflows/workflows.service';
import type { ScheduleResponse, UpsertScheduleDto, WebhookSecretResponse } from './dto/trigger.dto';
import type { ScheduleEntity } from './entities/schedule.entity';
import { TriggersRepository } from './triggers.repository';
import { TOLERANCE_SECONDS } from './webhook-signature';
import { isSecretName } from '../../core/redaction/redact';

/**
 * Headers a webhook run sees in its input: the delivery's own, minus credentials (any secret-named header:
 * Authorization, Cookie, X-Api-Key, X-Api-Token, X-Conflux-Signature, ...) and the idempotency key.
 */
const visibleHeader = (name: string) => name !== 'x-idempotency-key' && !isSecretName(name);
/** Delivery ids by provider: Conflux's own, GitHub's, Standard Webhooks'. */
const DELIVERY_HEADERS = ['x-delivery-id', 'x-github-delivery', 'webhook-id'];

export class ScheduleNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('schedule', id, 'SCHEDULE_NOT_FOUND');
  }
}

@Injectable()
export class TriggersService {
  private readonly logger = new Logger('Triggers');

  constructor(
    private readonly repository: TriggersRepository,
    private readonly workflows: WorkflowsService,
    private readonly engine: EngineService,
    private readonly jobs: JobQueue,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    @InjectRedis() private readonly redis: Redis,
    private readonly redisConfig: RedisConfig,
    private readonly limiter: RateLimiter,
    private readonly policies: PoliciesService,
  ) {}

  /** Creates or rotates the workflow's webhook secret; the old one stops working at once. */
  rotateSecret(tenantId: string, workflowId: string, baseUrl: string): Promise<WebhookSecretResponse> {
    return this.tx.run(async () => {
      // Whoever holds the secret starts runs: issuing it is running, as far as policies go.
      await this.policies.assert(
        'run',
        'Workflow',
        toWorkflowResponse(await this.workflows.require(tenantId, workflowId)),
      );
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      await this.repository.setSecret(tenantId, workflowId, secret);
      await this.audit.record({
        tenantId,
        eventType: 'webhook_secret.rotated',
        resourceType: 'workflow',
        resourceId: workflowId,
      });
      return { webhook_url: `${baseUrl}/api/v1/triggers/webhook/${workflowId}`, secret };
    });
  }

  /**
   * One delivery: one run with trigger_type webhook and `{body, headers}` as input. A repeated delivery id
   * returns the run it already started (`created: false`), and so does a signed delivery sent again (a
   * replay), whatever delivery id it now carries: the unsigned header alone cannot make it new.
   */
  async deliver(
    tenantId: string,
    workflowId: string,
    body: unknown,
    headers: Record<string, string | string[] | undefined>,
    signedDeliveryId?: string,
  ) {
    const workflow = await this.workflows.requireRunnable(tenantId, workflowId);
    await this.policies.assert('run', 'Workflow', toWorkflowResponse(workflow));
    const visible = Object.fromEntries(Object.entries(headers).filter(([name]) => visibleHeader(name)));
    const deliveryId = DELIVERY_HEADERS.map((name) => headers[name]).find(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    const { run, created } = await this.engine.start({
      tenantId,
      workflow,
      input: { body: body ?? null, headers: visible },
      triggerType: 'webhook',
      idempotencyKey: await this.deliveryKey(workflowId, deliveryId, signedDeliveryId),
    });
    return { run: toRunResponse(run), created };
  }

  /**
   * The run's idempotency key: by delivery id when there is one, by the signed content when signed without. A
   * signed delivery's content is remembered (in Redis, for the signature's tolerance window and as long again)
   * with the key its first sending used, and a later sending of the same content takes that key.
   */
  private async deliveryKey(
    workflowId: string,
    deliveryId: string | undefined,
    signedDeliveryId: string | undefined,
  ): Promise<string | undefined> {
    const own = deliveryId
      ? `webhook:${workflowId}:${deliveryId.slice(0, 200)}`
      : signedDeliveryId && `webhook:${workflowId}:signed:${signedDeliveryId}`;
    if (!signedDeliveryId || !own) return own;
    const first = (await this.redis.call(
      'SET',
      `${this.redisConfig.QUEUE_PREFIX}:webhook-delivery:${workflowId}:${signedDeliveryId}`,
      own,
      'EX',
      String(2 * TOLERANCE_SECONDS),
      'NX',
      'GET',
    )) as string | null;
    return first ?? own;
  }

  /** Creates or updates the workflow's schedule, then (after commit) its BullMQ job scheduler. */
  async upsertSchedule(
    tenantId: string,
    input: UpsertScheduleDto,
  ): Promise<{ schedule: ScheduleResponse; created: boolean }> {
    const timezone = input.timezone ?? 'UTC';
    cronProblem(input.cron, timezone);
    const plan = await this.repository.schedulePlan(tenantId);
    const gap = shortestGapSeconds(input.cron, timezone);
    if (plan && gap < plan.minIntervalSeconds) {
      throw new ValidationFailedException(
        HttpStatus.BAD_REQUEST,
        `The ${plan.plan} plan allows a schedule to fire at most every ${plan.minIntervalSeconds} s; cron '${input.cron}' fires every ${gap} s`,
        { field: 'cron', min_interval_seconds: plan.minIntervalSeconds },
      );
    }
    const result = await this.tx.run(async () => {
      const workflow = await this.workflows.requireRunnable(tenantId, input.workflow_id, input.input ?? {});
      await this.policies.assert('run', 'Workflow', toWorkflowResponse(workflow));
      const saved = await this.repository.upsertSchedule({
        tenant_id: tenantId,
        workflow_id: workflow.id,
        cron: input.cron,
        timezone,
        input: input.input ?? {},
        enabled: input.enabled ?? true,
      });
      await this.audit.record({
        tenantId,
        eventType: saved.created ? 'schedule.created' : 'schedule.updated',
        resourceType: 'schedule',
        resourceId: saved.schedule.id,
        details: { workflow_id: workflow.id, cron: input.cron, timezone, enabled: saved.schedule.enabled },
      });
      return saved;
    });
    await this.register(result.schedule);
    return { schedule: toScheduleResponse(result.schedule), created: result.created };
  }

  async listSchedules(tenantId: string, offset: number, limit: number): Promise<Page<ScheduleResponse>> {
    const [rows, total] = await this.repository.listSchedules(tenantId, offset, limit);
    return { items: rows.map(toScheduleResponse), total };
  }

  async deleteSchedule(tenantId: string, id: string): Promise<void> {
    const removed = await this.tx.run(async () => {
      const row = await this.repository.deleteSchedule(tenantId, id);
      if (!row) throw new ScheduleNotFoundException(id);
      await this.audit.record({
        tenantId,
        eventType: 'schedule.deleted',
        resourceType: 'schedule',
        resourceId: id,
        details: { workflow_id: row.workflow_id },
      });
      return row;
    });
    await this.jobs.queue('triggers').removeJobScheduler(removed.id);
  }

  /**
   * One tick (worker): the tick's job id is the run's idempotency key, so a tick never starts two runs. A tick
   * that would start a run spends from the tenant's per-minute request budget like an API call does; with none
   * left it is skipped.
   */
  async fire(scheduleId: string, tickId: string): Promise<void> {
    const schedule = await this.repository.scheduleForWorker(scheduleId);
    if (!schedule?.enabled) return;
    const workflow = await this.workflows
      .requireRunnable(schedule.tenant_id, schedule.workflow_id)
      .catch((error: Error) => {
        this.logger.warn(`schedule ${scheduleId}: tick skipped: ${error.message}`);
        return undefined;
      });
    if (!workflow) return;
    const plan = await this.repository.schedulePlan(schedule.tenant_id);
    if (plan) {
      const decision = await this.limiter.consume([
        {
          name: 'tenant-minute',
          subject: `tenant:${schedule.tenant_id}`,
          limit: plan.perMinute,
          windowSeconds: 60,
        },
      ]);
      if (!decision.allowed) {
        this.logger.warn({
          msg: 'schedule tick skipped: the tenant spent its request budget',
          schedule_id: scheduleId,
          tenant_id: schedule.tenant_id,
          retry_in_seconds: decision.blocked.resetSeconds,
        });
        return;
      }
    }
    await this.engine.start({
      tenantId: schedule.tenant_id,
      workflow,
      input: schedule.input,
      triggerType: 'schedule',
      idempotencyKey: `schedule:${tickId}`,
    });
  }

  /** Worker start: Postgres is the truth; make the job schedulers match it. */
  async syncSchedulers(): Promise<number> {
    const enabled = await this.repository.enabledSchedulesForWorker();
    const queue = this.jobs.queue('triggers');
    const wanted = new Set(enabled.map((s) => s.id));
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      if (scheduler.key && !wanted.has(scheduler.key)) await queue.removeJobScheduler(scheduler.key);
    }
    for (const schedule of enabled) await this.register(schedule);
    return enabled.length;
  }

  private async register(schedule: ScheduleEntity): Promise<void> {
    const queue = this.jobs.queue('triggers');
    if (!schedule.enabled) {
      await queue.removeJobScheduler(schedule.id);
      return;
    }
    await queue.upsertJobScheduler(
      schedule.id,
      { pattern: schedule.cron, tz: schedule.timezone },
      {
        name: 'trigger.schedule',
        data: { schedule_id: schedule.id },
        opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  }
}

/** Throws 400 naming what is wrong with the cron expression or the time zone. */
export function cronProblem(cron: string, timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ValidationFailedException(
      HttpStatus.BAD_REQUEST,
      `timezone '${timezone}' is not an IANA time zone`,
      { field: 'timezone' },
    );
  }
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new ValidationFailedException(
      HttpStatus.BAD_REQUEST,
      `cron '${cron}' must have 5 fields, or 6 with seconds first`,
      { field: 'cron' },
    );
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone });
  } catch (error) {
    throw new ValidationFailedException(
      HttpStatus.BAD_REQUEST,
      `cron '${cron}' is not valid: ${(error as Error).message}`,
      { field: 'cron' },
    );
  }
}

/** The shortest time between two of the cron's next 60 firings, in whole seconds. */
function shortestGapSeconds(cron: string, timezone: string): number {
  const times = nextFireTimes(cron, timezone, 60).map((time) => Date.parse(time));
  const gaps = times.slice(1).map((time, i) => time - times[i]);
  return Math.round(Math.min(...gaps) / 1000);
}

export function nextFireTimes(cron: string, timezone: string, count = 5): string[] {
  const expression = CronExpressionParser.parse(cron, { tz: timezone });
  return Array.from({ length: count }, () => expression.next().toISOString() ?? '');
}

function toScheduleResponse(row: ScheduleEntity): ScheduleResponse {
  return {
    id: row.id,
    workflow_id: row.workflow_id,
    cron: row.cron,
    timezone: row.timezone,
    input: row.input,
    enabled: row.enabled,
    next_fire_times: row.enabled ? nextFireTimes(row.cron, row.timezone) : [],
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
