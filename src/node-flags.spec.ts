import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { API_NODE_FLAGS, WORKER_NODE_FLAGS } from './node-flags';

const read = (file: string) => readFileSync(path.join(__dirname, '..', file), 'utf8');
const argv = (flags: string[], entry: string) => ['node', ...flags, entry];
/** `['a', 'b']` as docker compose and the Dockerfile write it. */
const exec = (args: string[], quote: string) => `[${args.map((a) => `${quote}${a}${quote}`).join(', ')}]`;
/** The `command:` lists of a Kubernetes manifest, each as one line. */
const commands = (yaml: string) =>
  (yaml.match(/command:\n(\s+- .+\n)+/g) ?? []).map((block) => block.replace(/\s+- /g, ' ').trim());

describe('the processes users start', () => {
  it('run with their Node flags wherever they are started', () => {
    const api = argv(API_NODE_FLAGS, 'dist/main.js');
    const worker = argv(WORKER_NODE_FLAGS, 'dist/worker.js');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:api']).toBe(api.join(' '));
    expect(scripts['start:worker']).toBe(worker.join(' '));
    // `npm start` runs the API and a worker in one process: the worker's heap flags, and the API's streams may
    // ask for young-generation collections (src/modules/storage/metered.ts).
    expect(scripts.start).toBe(
      `nest build && exec ${argv([...WORKER_NODE_FLAGS, '--expose-gc'], 'dist/dev.js').join(' ')}`,
    );
    expect(read('Dockerfile')).toContain(`CMD ${exec(api, '"')}`);
    const compose = read('docker-compose.yml');
    expect(compose).toContain(`command: ${exec(api, "'")}`);
    expect(compose).toContain(`command: ${exec(worker, "'")}`);
    expect(commands(read('deploy/k8s/api.yaml'))).toEqual([`command: ${api.join(' ')}`]);
    const workers = commands(read('deploy/k8s/workers.yaml'));
    expect(workers.length).toBeGreaterThan(0);
    for (const command of workers) expect(command).toBe(`command: ${worker.join(' ')}`);
  });
});
