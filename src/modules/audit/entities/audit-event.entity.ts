import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

const bigintAsNumber = { to: (value: number) => value, from: (value: string) => Number(value) };

@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { name: 'event_id' })
  event_id: string;

  @Column({ type: 'text', nullable: true })
  tenant_id: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq: number;

  @Column({ type: 'text' })
  event_type: string;

  @Column({ type: 'timestamptz' })
  timestamp: Date;

  @Column({ type: 'text' })
  actor: string;

  @Column({ type: 'text', nullable: true })
  x_user_id: string | null;

  @Column({ type: 'text' })
  resource_type: string;

  @Column({ type: 'text', nullable: true })
  resource_id: string | null;

  @Column({ type: 'jsonb', default: {} })
  details: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  sha256: string | null;

  @Column({ type: 'text' })
  prev_hash: string;

  @Column({ type: 'text' })
  hash: string;
}
