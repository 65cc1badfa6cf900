import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('tenants')
export class TenantEntity {
  /** The tenant_id: `^[a-zA-Z0-9_]{3,50}$`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: 'active' })
  state: 'active' | 'suspended';

  @Column({ type: 'text' })
  plan_code: string;

  @Column({ type: 'jsonb', default: {} })
  config: Record<string, unknown>;

  /** Bumped by every config change; a change must name the version it was made against. */
  @Column({ type: 'integer', default: 1 })
  config_version: number;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
