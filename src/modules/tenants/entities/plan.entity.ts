import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Seeded by the identity migration: STARTER, PROFESSIONAL, SCALE. */
@Entity('plans')
export class PlanEntity {
  @PrimaryColumn({ type: 'text' })
  code: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'integer' })
  daily_pipelines: number;

  @Column({ type: 'integer' })
  concurrent_pipelines: number;

  @Column({ type: 'integer' })
  team_members: number;

  @Column({ type: 'integer' })
  providers: number;

  @Column({ type: 'integer' })
  requests_per_minute: number;

  @Column({ type: 'integer' })
  requests_per_hour: number;

  /** The shortest interval between two ticks of one of the tenant's cron schedules. */
  @Column({ type: 'integer' })
  min_schedule_interval_seconds: number;

  /** The tenant's open top-level runs at most (more are held pending until one ends); null: no limit. */
  @Column({ type: 'integer', nullable: true })
  concurrent_runs: number | null;
}
