import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { discoverPlugins, STEP_CATALOG } from './catalog';

describe('step plug-in discovery', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  /** A plug-in folder as a contributor would add it (plain JS, so the test needs no build). */
  function folder(name: string, source: string): void {
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'index.js'), source);
  }
  const pluginOf = (order: number, ...types: string[]) =>
    `exports.plugin = { order: ${order}, executor: class {}, steps: ${JSON.stringify(types.map((type) => ({ type })))} };`;

  it("finds every folder with a plugin and orders the catalog by the plugins' order", () => {
    dir = mkdtempSync(path.join(tmpdir(), 'steps-'));
    folder('zeta', pluginOf(1, 'zeta.first', 'zeta.second'));
    folder('alpha', pluginOf(2, 'alpha'));
    writeFileSync(path.join(dir, 'README.md'), 'files beside the folders are not plug-ins');
    expect(discoverPlugins(dir).flatMap((plugin) => plugin.steps.map((step) => step.type))).toEqual([
      'zeta.first',
      'zeta.second',
      'alpha',
    ]);
  });

  it('refuses a folder without a plugin and a step type two folders declare', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'steps-'));
    folder('empty', 'exports.other = 1;');
    expect(() => discoverPlugins(dir)).toThrow('step folder empty: its index exports no `plugin`');
    rmSync(path.join(dir, 'empty'), { recursive: true });
    folder('one', pluginOf(1, 'same'));
    folder('two', pluginOf(2, 'same'));
    expect(() => discoverPlugins(dir)).toThrow("step type 'same' is declared by both one and two");
  });

  it('the shipped catalog is the shipped folders', () => {
    expect(STEP_CATALOG.map((step) => step.type)).toEqual([
      'trigger.manual',
      'trigger.webhook',
      'trigger.schedule',
      'http.request',
      'transform',
      'condition',
      'delay',
      'approval',
      'sql.query',
      'pipeline.extract',
      'pipeline.focus',
      'pipeline.load',
      'pipeline.dq',
      'workflow.call',
    ]);
  });
});
