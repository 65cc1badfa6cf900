import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Unique case-insensitively. */
  @Column({ type: 'text' })
  email: string;

  /** `scrypt$N$r$p$salt$hash`; null for a user who cannot log in with a password. */
  @Column({ type: 'text', nullable: true })
  password_hash: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}
