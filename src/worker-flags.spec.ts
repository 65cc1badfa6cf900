import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { WORKER_NODE_FLAGS } from './worker-flags';

const read = (file: string) => readFileSync(path.join(__dirname, '..', file), 'utf8');

describe('the worker processes users start', () => {
  it('run with the worker flags wherever they are started', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:worker']).toBe(`node ${WORKER_NODE_FLAGS.join(' ')} dist/worker.js`);
    expect(scripts.start).toContain(`node ${WORKER_NODE_FLAGS.join(' ')} dist/dev.js`);
    const command = JSON.stringify(['node', ...WORKER_NODE_FLAGS, 'dist/worker.js']).replace(/,/g, ', ');
    expect(read('docker-compose.yml')).toContain(`command: ${command.replace(/"/g, "'")}`);
    const k8s = read('deploy/k8s/workers.yaml');
    const commands = k8s.match(/command:\n(\s+- .+\n)+/g) ?? [];
    expect(commands.length).toBeGreaterThan(0);
    for (const block of commands)
      expect(block.replace(/\s+- /g, ' ').trim()).toBe(
        `command: node ${WORKER_NODE_FLAGS.join(' ')} dist/worker.js`,
      );
  });
});
