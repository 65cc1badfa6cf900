#!/usr/bin/env node
// `npm test`: every unit spec (src/**/*.spec.ts) and e2e suite (test/**/*.e2e-spec.ts) under Node's test
// runner, each file in its own process, against TEST_DATABASE_URL / TEST_REDIS_URL (defaults: the local
// Postgres as root and the local Redis), falling back to an embedded PostgreSQL and a spawned redis-server
// when those are unreachable. `npm test -- <files>` runs only those files.
//
// Why not jest: NestJS 12 ships as ES modules, which Node 20 loads from CommonJS natively (require(esm))
// but jest's module runtime only does from Node 24.9; node:test runs the code exactly as dist/ runs.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

require('ts-node').register({ transpileOnly: true });
const { prepareTestBackends } = require('../test/support/backends.ts');

const root = path.join(__dirname, '..');

function find(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return find(full, suffix);
    return entry.name.endsWith(suffix) ? [path.relative(root, full)] : [];
  });
}

async function main() {
  const args = process.argv.slice(2);
  const files =
    args.length > 0
      ? args
      : [...find(path.join(root, 'src'), '.spec.ts'), ...find(path.join(root, 'test'), '.e2e-spec.ts')];
  const stopBackends = await prepareTestBackends();
  const summary = path.join(root, 'test/support/summary-reporter.mjs');
  const child = spawn(
    process.execPath,
    [
      '--require',
      'ts-node/register/transpile-only',
      '--test',
      `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 1}`,
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${summary}`,
      '--test-reporter-destination=stdout',
      ...files,
    ],
    { cwd: root, stdio: 'inherit', env: process.env },
  );
  const code = await new Promise((resolve) => child.on('exit', (exitCode) => resolve(exitCode ?? 1)));
  await stopBackends();
  process.exit(code);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
