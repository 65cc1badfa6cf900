import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Workflow definitions: drafts, published (frozen) versions and their lineage. */
export class Workflows1764000000000 implements MigrationInterface {
  name = 'Workflows1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workflows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
        definition jsonb NOT NULL DEFAULT '{"nodes": [], "edges": []}',
        input_schema jsonb,
        published_at timestamptz,
        package_digest text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX workflows_tenant_idx ON workflows (tenant_id, status, created_at DESC)`);
    await q.query(`CREATE UNIQUE INDEX workflows_family_version_key ON workflows (family_id, version)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE workflows`);
  }
}
