import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Sealed (SecretCipher): verifying an HMAC needs the secret itself. Shown to users only when created or rotated. */
@Entity('webhook_secrets')
export class WebhookSecretEntity {
  @PrimaryColumn({ type: 'uuid' })
  workflow_id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  secret: string;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}
