import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** The source of truth of a schedule; the BullMQ job scheduler of the same id is derived from it. */
@Entity('schedules')
export class ScheduleEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'uuid', unique: true })
  workflow_id: string;

  /** 5 fields, or 6 with seconds first. */
  @Column({ type: 'text' })
  cron: string;

  /** IANA time zone, e.g. Europe/Paris. */
  @Column({ type: 'text', default: 'UTC' })
  timezone: string;

  @Column({ type: 'jsonb', default: {} })
  input: Record<string, unknown>;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
