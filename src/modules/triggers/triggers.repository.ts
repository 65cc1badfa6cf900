import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { SecretCipher, webhookSecretContext } from '../../core/secrets/secret-cipher';
import { ScheduleEntity } from './entities/schedule.entity';
import { WebhookSecretEntity } from './entities/webhook-secret.entity';

@Injectable()
export class TriggersRepository {
  constructor(
    private readonly tx: Transactions,
    private readonly cipher: SecretCipher,
  ) {}

  private get schedules() {
    return this.tx.manager().getRepository(ScheduleEntity);
  }

  async setSecret(tenantId: string, workflowId: string, secret: string): Promise<void> {
    await this.tx.manager().query(
      `INSERT INTO webhook_secrets (workflow_id, tenant_id, secret) VALUES ($1, $2, $3)
       ON CONFLICT (workflow_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now()`,
      [workflowId, tenantId, this.cipher.seal(secret, webhookSecretContext(workflowId))],
    );
  }

  /**
   * By workflow alone: a public webhook delivery learns its tenant from the workflow it names. The secret comes
   * back opened; one no key of the ring opens counts as none (the owner rotates it).
   */
  async secretForWebhook(workflowId: string): Promise<WebhookSecretEntity | null> {
    const row = await this.tx
      .manager()
      .getRepository(WebhookSecretEntity)
      .findOne({ where: { workflow_id: workflowId } });
    const secret = row ? this.cipher.open(row.secret, webhookSecretContext(workflowId)) : undefined;
    return row && secret !== undefined ? { ...row, secret } : null;
  }

  /** Creates or replaces the workflow's schedule; `created` tells which. */
  async upsertSchedule(
    row: Pick<ScheduleEntity, 'tenant_id' | 'workflow_id' | 'cron' | 'timezone' | 'input' | 'enabled'>,
  ): Promise<{ schedule: ScheduleEntity; created: boolean }> {
    const [saved] = await this.tx.rows<ScheduleEntity & { created: boolean }>(
      `INSERT INTO schedules (tenant_id, workflow_id, cron, timezone, input, enabled) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (workflow_id) DO UPDATE
         SET cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, input = EXCLUDED.input, enabled = EXCLUDED.enabled, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [row.tenant_id, row.workflow_id, row.cron, row.timezone, JSON.stringify(row.input), row.enabled],
    );
    const { created, ...schedule } = saved;
    return { schedule: this.schedules.create(schedule), created };
  }

  listSchedules(tenantId: string, offset: number, limit: number): Promise<[ScheduleEntity[], number]> {
    return this.schedules.findAndCount({
      where: { tenant_id: tenantId },
      order: { created_at: 'ASC' },
      skip: offset,
      take: limit,
    });
  }

  async deleteSchedule(tenantId: string, id: string): Promise<ScheduleEntity | undefined> {
    const [row] = await this.tx.rows<ScheduleEntity>(
      'DELETE FROM schedules WHERE tenant_id = $1 AND id = $2 RETURNING *',
      [tenantId, id],
    );
    return row;
  }

  /** The worker's reads: a tick names only the schedule; start-up re-registers every enabled one. */
  /** What the tenant's plan allows its schedules: a tick counts against `perMinute` like a request does. */
  async schedulePlan(
    tenantId: string,
  ): Promise<{ plan: string; perMinute: number; minIntervalSeconds: number } | undefined> {
    const rows = await this.tx.rows<{ plan: string; per_minute: number; min_interval: number }>(
      `SELECT p.code AS plan, p.requests_per_minute AS per_minute, p.min_schedule_interval_seconds AS min_interval
         FROM tenants t JOIN plans p ON p.code = t.plan_code WHERE t.id = $1`,
      [tenantId],
    );
    const row = rows[0];
    return row && { plan: row.plan, perMinute: row.per_minute, minIntervalSeconds: row.min_interval };
  }

  scheduleForWorker(id: string): Promise<ScheduleEntity | null> {
    return this.schedules.findOne({ where: { id } });
  }

  enabledSchedulesForWorker(): Promise<ScheduleEntity[]> {
    return this.schedules.find({ where: { enabled: true } });
  }
}
