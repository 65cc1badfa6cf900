import { readdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { MIGRATIONS } from './index';

describe('migration list', () => {
  it('lists every migration file of this folder, oldest first', () => {
    const files = readdirSync(__dirname).filter((f) => /^\d+-.+\.ts$/.test(f) && !f.endsWith('.spec.ts'));
    const timestamps = files.map((f) => f.split('-')[0]).sort();
    const listed = MIGRATIONS.map((m) => /(\d+)$/.exec(m.name)?.[1]);
    expect(listed).toEqual(timestamps);
  });
});
