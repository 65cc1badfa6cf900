import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export interface WorkflowNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: {
    label?: string;
    config: Record<string, unknown>;
    retry?: { max_attempts: number; backoff_ms: number };
    timeout_ms?: number;
  };
}

export interface WorkflowEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string;
}

/** A React Flow graph: the editor saves it as it is. */
export interface WorkflowDefinition {
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
}

export type WorkflowStatus = 'draft' | 'published' | 'archived';

@Entity('workflows')
export class WorkflowEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  tenant_id: string;

  /** The first version's id, shared by every duplicate: versions number within the family. */
  @Column({ type: 'uuid' })
  family_id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ type: 'text', default: 'draft' })
  status: WorkflowStatus;

  @Column({ type: 'jsonb' })
  definition: WorkflowDefinition;

  @Column({ type: 'jsonb', nullable: true })
  input_schema: Record<string, unknown> | null;

  /** Labels access policies match on (`{"tags": "prod"}`). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags: string[];

  @Column({ type: 'timestamptz', nullable: true })
  published_at: Date | null;

  /** SHA-256 of the signed package (WPK) it was deployed from, if any. */
  @Column({ type: 'text', nullable: true })
  package_sha256: string | null;

  /** Name of that package. */
  @Column({ type: 'text', nullable: true })
  package_name: string | null;

  /** Its (semver) version. */
  @Column({ type: 'text', nullable: true })
  package_version: string | null;

  /** The workflow's key in the package: deploying a package again upgrades the family with this key. */
  @Column({ type: 'text', nullable: true })
  package_key: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
