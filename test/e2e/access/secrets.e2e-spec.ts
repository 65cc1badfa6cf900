import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../../src/core/config/database.config';
import { dataSourceOptions } from '../../../src/core/database/data-source.options';
import { runMigrationsLocked } from '../../../src/core/database/migrate';
import { signWebhook } from '../../../src/modules/triggers/webhook-signature';
import { call, loginAdmin, type OnboardedTenant, onboardTenant } from '../../support/auth';
import { graph, publish } from '../../support/engine';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

const run = promisify(execFile);

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let workflowId: string;
let secret: string;
let db: Client;

beforeAll(async () => {
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
  workflowId = await publish(api.url, acme, graph([{ id: 'hook', type: 'trigger.webhook' }], []));
  const created = await call(api.url, 'POST', `/api/v1/workflows/${workflowId}/webhook-secret`, {
    credentials: acme.ownerKey,
  });
  secret = created.body.secret as string;
  db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await api?.close();
  await backends?.cleanup();
});

/** A signed delivery to the workflow's webhook: 201 when the stored secret opened and the signature matched. */
async function deliver(target: RunningApi): Promise<number> {
  const body = JSON.stringify({ n: randomBytes(4).toString('hex') });
  const res = await fetch(`${target.url}/api/v1/triggers/webhook/${workflowId}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-conflux-signature': signWebhook(secret, body) },
  });
  return res.status;
}

/** Every row of every table, as text: what a database dump would show. */
async function dump(): Promise<string> {
  const tables = await db.query<{ name: string }>(
    `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const parts: string[] = [];
  for (const { name } of tables.rows)
    parts.push(JSON.stringify((await db.query(`SELECT * FROM ${name}`)).rows));
  return parts.join('\n');
}

const storedSecret = async () =>
  (
    await db.query<{ secret: string }>('SELECT secret FROM webhook_secrets WHERE workflow_id = $1', [
      workflowId,
    ])
  ).rows[0].secret;

async function rotate(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), 'scripts/secrets-rotate.ts'],
    { env: { ...process.env, ...backends.env, ...env }, cwd: process.cwd() },
  );
  return stdout;
}

describe('secrets at rest', () => {
  it('stores webhook secrets sealed: a dump of every table shows none in clear, and deliveries still verify', async () => {
    expect(secret).toMatch(/^whsec_/);
    expect(await dump()).not.toContain(secret);
    expect(await storedSecret()).toMatch(/^enc:v1:[0-9a-f]{12}:/);
    expect(await deliver(api)).toBe(201);
  });

  it('rotates to a new key: values are re-sealed under it, old webhook secrets keep verifying, the old key alone no longer reads them', async () => {
    const before = await storedSecret();
    const newKey = randomBytes(32).toString('base64');
    expect(await rotate({ SECRETS_KEY: newKey })).toContain(
      'webhook_secrets: 1 re-sealed, 0 already under key',
    );
    const after = await storedSecret();
    expect(after).not.toBe(before);
    expect(after.split(':')[2]).not.toBe(before.split(':')[2]);
    expect(await dump()).not.toContain(secret);
    expect(await rotate({ SECRETS_KEY: newKey })).toContain('0 re-sealed, 1 already under key');

    await api.close();
    api = await startTestApi({ ...backends.env, SECRETS_KEY: newKey });
    expect(await deliver(api)).toBe(201);

    // A process with another key cannot open it (the value really is under the new key), and rotating with a
    // key ring that lacks it names the row it cannot read.
    const stranger = await startTestApi({ ...backends.env, SECRETS_KEY: randomBytes(32).toString('hex') });
    try {
      expect(await deliver(stranger)).toBe(401);
    } finally {
      await stranger.close();
    }
    await expect(rotate({ SECRETS_KEY: randomBytes(32).toString('hex') })).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining(`1 unreadable: ${workflowId}`),
    });
    expect(await storedSecret()).toBe(after);
  });

  it('the access migration seals webhook secrets stored in clear before it', async () => {
    await api.close();
    const dataSource = new DataSource(
      dataSourceOptions({ DATABASE_URL: backends.databaseUrl, DATABASE_POOL_SIZE: 2 } as DatabaseConfig),
    );
    await dataSource.initialize();
    try {
      // Back to before the migration (its down opens what it can), with a secret stored in clear as then.
      let reverted = false;
      while (!reverted) {
        const [last] = await dataSource.query<Array<{ name: string }>>(
          'SELECT name FROM migrations ORDER BY id DESC LIMIT 1',
        );
        await dataSource.undoLastMigration();
        reverted = last.name === 'Access1764720000000';
      }
      await db.query('UPDATE webhook_secrets SET secret = $1 WHERE workflow_id = $2', [secret, workflowId]);
      await runMigrationsLocked(dataSource);
    } finally {
      await dataSource.destroy();
    }
    expect(await dump()).not.toContain(secret);
    api = await startTestApi(backends.env);
    expect(await deliver(api)).toBe(201);
  });
});
