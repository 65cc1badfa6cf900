import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { TenantRole } from '../../../core/auth/principal';

/** A user belongs to one tenant, with one role there. */
@Entity('memberships')
export class MembershipEntity {
  @PrimaryColumn('uuid')
  user_id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  role: TenantRole;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}
