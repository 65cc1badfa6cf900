import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The replay log of a run: `seq` is gap-free per run. */
@Entity('run_events')
export class RunEventEntity {
  @PrimaryColumn({ type: 'uuid' })
  run_id: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ type: 'text' })
  event_type: string;

  @Column({ type: 'text', nullable: true })
  step_id: string | null;

  @Column({ type: 'jsonb', default: {} })
  data: Record<string, unknown>;

  @Column({ type: 'timestamptz' })
  timestamp: Date;
}
