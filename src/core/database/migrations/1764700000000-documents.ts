import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Documents (uploaded or produced bytes in object storage), versioned extraction configurations, extraction jobs,
 * the tables they loaded into tenant schemas, and one timeline of what happened to each of them.
 */
export class Documents1764700000000 implements MigrationInterface {
  name = 'Documents1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE documents (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        filename text NOT NULL,
        status text NOT NULL CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')),
        modality text NOT NULL CHECK (modality IN ('tabular', 'text', 'image', 'pdf', 'other')),
        detected_type text NOT NULL,
        content_type text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        sha256 text NOT NULL,
        size bigint NOT NULL,
        storage_path text NOT NULL,
        source_table_id uuid,
        error text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX documents_tenant_idx ON documents (tenant_id, created_at DESC, id)`);
    await q.query(`
      CREATE TABLE extraction_configurations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name text NOT NULL,
        version integer NOT NULL DEFAULT 1,
        settings jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX extraction_configurations_tenant_idx ON extraction_configurations (tenant_id, created_at DESC)`,
    );
    await q.query(`
      CREATE TABLE extraction_configuration_versions (
        configuration_id uuid NOT NULL REFERENCES extraction_configurations (id) ON DELETE CASCADE,
        version integer NOT NULL,
        name text NOT NULL,
        settings jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (configuration_id, version)
      )`);
    await q.query(`
      CREATE TABLE extraction_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        configuration_id uuid,
        configuration_version integer,
        settings jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        error text,
        warnings jsonb NOT NULL DEFAULT '[]',
        rows bigint,
        attempts integer NOT NULL DEFAULT 0,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        FOREIGN KEY (configuration_id, configuration_version)
          REFERENCES extraction_configuration_versions (configuration_id, version)
      )`);
    await q.query(
      `CREATE INDEX extraction_jobs_tenant_idx ON extraction_jobs (tenant_id, created_at DESC, id)`,
    );
    await q.query(`CREATE INDEX extraction_jobs_document_idx ON extraction_jobs (document_id)`);
    // At most one job in flight per document: the document's status follows exactly one job.
    await q.query(
      `CREATE UNIQUE INDEX extraction_jobs_in_flight ON extraction_jobs (document_id) WHERE status IN ('queued', 'running')`,
    );
    await q.query(`
      CREATE TABLE extracted_tables (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        job_id uuid NOT NULL REFERENCES extraction_jobs (id) ON DELETE CASCADE,
        document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        schema_name text NOT NULL,
        table_name text NOT NULL,
        sheet text,
        ordinal integer NOT NULL,
        columns jsonb NOT NULL,
        row_count bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (schema_name, table_name)
      )`);
    await q.query(
      `CREATE INDEX extracted_tables_tenant_idx ON extracted_tables (tenant_id, created_at DESC)`,
    );
    await q.query(`CREATE INDEX extracted_tables_job_idx ON extracted_tables (job_id)`);
    await q.query(`CREATE INDEX extracted_tables_document_idx ON extracted_tables (document_id)`);
    await q.query(`
      CREATE TABLE document_events (
        seq bigserial PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        event_type text NOT NULL,
        document_id uuid,
        job_id uuid,
        configuration_id uuid,
        table_id uuid,
        data jsonb NOT NULL DEFAULT '{}',
        actor text NOT NULL,
        -- The moment of the change, not of its transaction's start (an extraction's transaction is long).
        timestamp timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(
      `CREATE INDEX document_events_document_idx ON document_events (document_id, seq) WHERE document_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX document_events_job_idx ON document_events (job_id, seq) WHERE job_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX document_events_configuration_idx ON document_events (configuration_id, seq) WHERE configuration_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE document_events, extracted_tables, extraction_jobs, extraction_configuration_versions,
                  extraction_configurations, documents`,
    );
  }
}
