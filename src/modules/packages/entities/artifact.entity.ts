import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A packed WPK: its bytes live in object storage at `object_path`, addressed by their SHA-256. */
@Entity('wpk_artifacts')
export class ArtifactEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  version: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** Hex SHA-256 of the `.tar.gz` bytes. */
  @Column({ type: 'text' })
  sha256: string;

  @Column({ type: 'integer' })
  size: number;

  /** `<bucket>/<path>` within the tenant's storage. */
  @Column({ type: 'text' })
  object_path: string;

  /** The keys of the workflows it holds, in archive order. */
  @Column({ type: 'text', array: true })
  workflow_keys: string[];

  @Column({ type: 'text' })
  created_by: string;

  @Column({ type: 'timestamptz' })
  created_at: Date;

  /** Base64 Ed25519 signature over the signing payload (see package-signer.ts). */
  @Column({ type: 'text', nullable: true })
  signature: string | null;

  /** Fingerprint of the key that made `signature` (`ed25519:<hex>`). */
  @Column({ type: 'text', nullable: true })
  key_id: string | null;

  @Column({ type: 'text', nullable: true })
  signed_by: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  signed_at: Date | null;

  @Column({ type: 'text', nullable: true })
  deployed_by: string | null;

  /** When it was first deployed. */
  @Column({ type: 'timestamptz', nullable: true })
  deployed_at: Date | null;
}
