/**
 * `npm run secrets:rotate`: re-seals every secret at rest under the current SECRETS_KEY. Set the new key as
 * SECRETS_KEY and the old one in SECRETS_PREVIOUS_KEYS (every API and worker too, so they read both meanwhile),
 * run this, then drop the old key. Safe while the API serves; exits 1 when some value no configured key opens.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { loadConfig } from '../src/core/config/config.loader';
import { DatabaseConfig } from '../src/core/config/database.config';
import { resealColumns } from '../src/core/secrets/reseal';
import { secretCipherFromEnv } from '../src/core/secrets/secret-cipher';

async function main(): Promise<number> {
  const cipher = secretCipherFromEnv(process.env);
  const db = new Client({ connectionString: loadConfig(DatabaseConfig, process.env).DATABASE_URL });
  await db.connect();
  try {
    const reports = await resealColumns(
      async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows,
      cipher,
    );
    let failed = false;
    for (const report of reports) {
      console.log(
        `${report.table}: ${report.resealed} re-sealed, ${report.current} already under key ${cipher.keyId}` +
          (report.unreadable.length > 0
            ? `, ${report.unreadable.length} unreadable: ${report.unreadable.join(', ')}`
            : ''),
      );
      failed ||= report.unreadable.length > 0;
    }
    return failed ? 1 : 0;
  } finally {
    await db.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`secrets:rotate failed: ${error.message}`);
    process.exit(1);
  },
);
