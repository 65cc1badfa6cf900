import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed workflow packages: the artifacts a tenant packed (bytes in object storage, keyed by their SHA-256),
 * their signature, and on each workflow the package it was deployed from. `package_digest`, which nothing had
 * written yet, becomes `package_sha256` beside the package's name, version and the workflow's key in it.
 */
export class Packages1764710000000 implements MigrationInterface {
  name = 'Packages1764710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wpk_artifacts (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name text NOT NULL,
        version text NOT NULL,
        description text NOT NULL DEFAULT '',
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size integer NOT NULL CHECK (size > 0),
        object_path text NOT NULL,
        workflow_keys text[] NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        signature text,
        key_id text,
        signed_by text,
        signed_at timestamptz,
        deployed_by text,
        deployed_at timestamptz
      )`);
    // One artifact per content: packing the same manifest again answers with the same artifact.
    await q.query(`CREATE UNIQUE INDEX wpk_artifacts_sha256_key ON wpk_artifacts (tenant_id, sha256)`);
    await q.query(`CREATE INDEX wpk_artifacts_tenant_idx ON wpk_artifacts (tenant_id, created_at DESC)`);
    await q.query(`ALTER TABLE workflows RENAME COLUMN package_digest TO package_sha256`);
    await q.query(`
      ALTER TABLE workflows
        ADD COLUMN package_name text,
        ADD COLUMN package_version text,
        ADD COLUMN package_key text`);
    await q.query(
      `CREATE INDEX workflows_package_idx ON workflows (tenant_id, package_name, package_key, version DESC)
        WHERE package_name IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflows_package_idx`);
    await q.query(
      `ALTER TABLE workflows DROP COLUMN package_name, DROP COLUMN package_version, DROP COLUMN package_key`,
    );
    await q.query(`ALTER TABLE workflows RENAME COLUMN package_sha256 TO package_digest`);
    await q.query(`DROP TABLE wpk_artifacts`);
  }
}
