import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { manifestProblems, WPK_MANIFEST_SCHEMA } from './wpk-manifest';

const definition = {
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } }],
  edges: [],
};

describe('WPK manifest', () => {
  it('accepts a manifest and names every problem of one that is not', () => {
    expect(
      manifestProblems({
        name: 'ok',
        version: '1.0.0-rc.1+b5',
        workflows: [{ key: 'a', name: 'A', definition }],
      }),
    ).toEqual([]);
    const problems = manifestProblems({
      name: 'Has Spaces',
      version: 'v1',
      extra: true,
      workflows: [{ key: '../a', name: '', definition: { nodes: 'x' } }],
    }).join('\n');
    for (const part of [
      'wpk/name',
      'wpk/version',
      "unknown property 'extra'",
      'wpk/workflows/0/key',
      'wpk/workflows/0/name',
      'wpk/workflows/0/definition/nodes',
    ])
      expect(problems).toContain(part);
  });

  it('refuses two workflows with one key', () => {
    const w = { key: 'a', name: 'A', definition };
    expect(manifestProblems({ name: 'ok', version: '1.0.0', workflows: [w, w] })).toEqual([
      "wpk/workflows/1/key 'a' is used twice",
    ]);
  });

  it('is the JSON Schema docs/packages.md shows', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/packages.md'), 'utf8');
    const block = /```json schema\n([\s\S]*?)\n```/.exec(doc);
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(JSON.parse(JSON.stringify(WPK_MANIFEST_SCHEMA)));
  });
});
