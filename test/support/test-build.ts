import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transformFileSync } from '@swc/core';

const ROOT = path.join(__dirname, '..', '..');
/** One level below the repository, as dist/ is, so code that finds package.json from __dirname finds it. */
export const TEST_BUILD = path.join(ROOT, '.test-build');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

/**
 * src/ compiled once per test run with the same SWC settings jest uses (jest.config.js), for the processes
 * tests spawn (workers, `npm start`): they start from plain JavaScript in a second or two, instead of compiling
 * the whole tree through ts-node in each process (several seconds of CPU per spawn, on a 2-core CI machine).
 */
export function buildForSpawnedProcesses(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jestConfig = require(path.join(ROOT, 'jest.config.js')) as {
    transform: Record<string, [string, Record<string, unknown>]>;
  };
  const options = { ...jestConfig.transform['^.+\\.ts$'][1], sourceMaps: false, swcrc: false };
  rmSync(TEST_BUILD, { recursive: true, force: true });
  const src = path.join(ROOT, 'src');
  for (const file of sources(src)) {
    const out = path.join(TEST_BUILD, path.relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, transformFileSync(file, options).code);
  }
}
