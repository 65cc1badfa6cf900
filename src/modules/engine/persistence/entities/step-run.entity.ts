import { Column, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type StepStatus =
  'pending' | 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export const SETTLED_STEP_STATUSES: StepStatus[] = ['completed', 'skipped'];

/** One row per node of a run; `attempt` counts retries. */
@Entity('step_runs')
export class StepRunEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  run_id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  /** The node id. */
  @Column({ type: 'text' })
  step_id: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'text' })
  status: StepStatus;

  @Column({ type: 'integer', default: 1 })
  attempt: number;

  @Column({ type: 'jsonb', nullable: true })
  output: unknown;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /**
   * A queued step's job must not run before this (delays, retry backoff); a waiting step's deadline (an approval's
   * timeout). The reconciler honours both.
   */
  @Column({ type: 'timestamptz', nullable: true })
  not_before: Date | null;

  /** A step waiting on a child run: the child's idempotency key (the reconciler checks the child by it). */
  @Column({ type: 'text', nullable: true })
  child_key: string | null;

  /**
   * A running step claimed by the worker that completed its predecessor (sticky execution): the BullMQ id of the
   * job it runs under. NULL: its own job (`jobIdOf`) delivers it. Cleared by every other transition.
   */
  @Column({ type: 'text', nullable: true })
  carried_by: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  started_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  finished_at: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
