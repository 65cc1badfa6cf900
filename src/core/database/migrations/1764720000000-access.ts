import type { MigrationInterface, QueryRunner } from 'typeorm';
import { resealColumns } from '../../secrets/reseal';
import { secretCipherFromEnv, webhookSecretContext } from '../../secrets/secret-cipher';

/**
 * Access: identities from OpenID Connect providers (one `iss`+`sub` names one user), the tenants' access
 * policies, workflow tags (what policies match on), and webhook secrets encrypted at rest. Existing webhook
 * secrets are sealed here with the key the process runs with (SECRETS_KEY, or the development key), so a
 * database dump taken after this migration shows none in clear.
 */
export class Access1764720000000 implements MigrationInterface {
  name = 'Access1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sso_identities (
        issuer text NOT NULL,
        subject text NOT NULL,
        provider text NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject)
      )`);
    await q.query(`CREATE INDEX sso_identities_user ON sso_identities (user_id)`);
    await q.query(`
      CREATE TABLE access_policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        roles text[] NOT NULL,
        rules jsonb NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`);
    await q.query(`ALTER TABLE workflows ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`);

    // The columns as they are at this migration (frozen here, not the live SEALED_COLUMNS list).
    await resealColumns((sql, params) => q.query(sql, params), secretCipherFromEnv(process.env), [
      { table: 'webhook_secrets', id: 'workflow_id', column: 'secret', context: webhookSecretContext },
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    const cipher = secretCipherFromEnv(process.env);
    const rows = (await q.query(`SELECT workflow_id, secret FROM webhook_secrets`)) as Array<{
      workflow_id: string;
      secret: string;
    }>;
    for (const row of rows) {
      const plain = cipher.open(row.secret, webhookSecretContext(row.workflow_id));
      if (plain !== undefined)
        await q.query(`UPDATE webhook_secrets SET secret = $2 WHERE workflow_id = $1`, [
          row.workflow_id,
          plain,
        ]);
    }
    await q.query(`ALTER TABLE workflows DROP COLUMN tags`);
    await q.query(`DROP TABLE access_policies`);
    await q.query(`DROP TABLE sso_identities`);
  }
}
