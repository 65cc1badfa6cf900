import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { TenantRole } from '../../../core/auth/principal';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  role: TenantRole;

  /** `cfx_<8 chars>`: stored in clear to find the row. */
  @Column({ type: 'text', unique: true })
  prefix: string;

  /** SHA-256 of the whole key; the key itself is never stored. */
  @Column({ type: 'text' })
  key_hash: string;

  @Column({ type: 'text' })
  created_by: string;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revoked_at: Date | null;
}
