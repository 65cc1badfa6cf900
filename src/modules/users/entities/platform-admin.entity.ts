import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('platform_admins')
export class PlatformAdminEntity {
  @PrimaryColumn('uuid')
  user_id: string;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}
