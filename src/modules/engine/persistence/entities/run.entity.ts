import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RunStatus = 'pending' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_RUN_STATUSES: RunStatus[] = ['completed', 'failed', 'cancelled'];

export interface RunContext {
  input: unknown;
  steps: Record<string, { status: string; output?: unknown }>;
}

@Entity('runs')
export class RunEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'uuid' })
  workflow_id: string;

  @Column({ type: 'integer' })
  workflow_version: number;

  @Column({ type: 'text' })
  status: RunStatus;

  /** manual, webhook, schedule or workflow (a sub-workflow started by workflow.call). */
  @Column({ type: 'text' })
  trigger_type: string;

  @Column({ type: 'jsonb' })
  input: unknown;

  @Column({ type: 'jsonb' })
  context: RunContext;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'text', nullable: true })
  idempotency_key: string | null;

  @Column({ type: 'uuid', nullable: true })
  parent_run_id: string | null;

  @Column({ type: 'text', nullable: true })
  parent_step_id: string | null;

  /** The X-Request-ID of the call that started the run (a sub-workflow inherits its parent's), for the logs. */
  @Column({ type: 'text', nullable: true })
  request_id: string | null;

  /** Started past the plan's `concurrent_runs`: pending, with no steps, until a slot frees and admits it. */
  @Column({ type: 'boolean', default: false })
  held: boolean;

  /** The last event seq handed out; bumped under the run's row lock, so seqs are gap-free. */
  @Column({ type: 'integer', default: 0 })
  next_seq: number;

  @Column({ type: 'timestamptz', nullable: true })
  started_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  completed_at: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
