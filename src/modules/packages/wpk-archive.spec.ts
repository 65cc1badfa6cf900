import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { craftArchive, wpkEntries } from '../../../test/e2e/packages/wpk-support';
import { ARCHIVE_LIMITS, packArchive, UnsafeArchiveError, unpackArchive } from './wpk-archive';
import type { WpkManifest } from './wpk-manifest';

const definition = {
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } }],
  edges: [],
};
const manifest: WpkManifest = {
  name: 'demo',
  version: '1.0.0',
  workflows: [
    { key: 'b', name: 'B', definition },
    { key: 'a', name: 'A', description: 'first', definition, input_schema: { type: 'object' } },
  ],
};

const refusal = async (bytes: Buffer): Promise<string> => {
  const error = await unpackArchive(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  return (error as Error).message;
};

describe('WPK archive', () => {
  it('packs the same manifest to the same bytes, whatever the key and workflow order', async () => {
    const reordered: WpkManifest = {
      workflows: [...manifest.workflows].reverse().map((w) => ({ ...w })),
      version: manifest.version,
      name: manifest.name,
    };
    expect((await packArchive(reordered)).equals(await packArchive(manifest))).toBe(true);
  });

  it('reads back the manifest it packed', async () => {
    const read = (await unpackArchive(await packArchive(manifest))) as WpkManifest;
    expect(read.name).toBe('demo');
    expect(read.workflows.map((w) => [w.key, w.name, w.description])).toEqual([
      ['a', 'A', 'first'],
      ['b', 'B', undefined],
    ]);
    expect(read.workflows[0].definition).toEqual(definition);
    expect(read.workflows[0].input_schema).toEqual({ type: 'object' });
  });

  it('refuses links, directories, devices, climbing and absolute paths', async () => {
    const good = wpkEntries('demo', '1.0.0', [{ key: 'a', name: 'A', definition }]);
    expect(await refusal(craftArchive([...good, { path: '../x', data: 'x' }]))).toContain("'..'");
    expect(await refusal(craftArchive([...good, { path: 'workflows/../../x', data: 'x' }]))).toContain(
      "'..'",
    );
    expect(await refusal(craftArchive([...good, { path: '/etc/x', data: 'x' }]))).toContain('absolute');
    expect(
      await refusal(craftArchive([...good, { path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }])),
    ).toContain('SymbolicLink');
    expect(
      await refusal(craftArchive([...good, { path: 'hard', type: 'Link', linkpath: 'manifest.json' }])),
    ).toContain('Link');
    expect(await refusal(craftArchive([{ path: 'workflows', type: 'Directory' }, ...good]))).toContain(
      'Directory',
    );
  });

  it('refuses duplicates, unlisted files and missing ones', async () => {
    const good = wpkEntries('demo', '1.0.0', [{ key: 'a', name: 'A', definition }]);
    expect(await refusal(craftArchive([...good, good[1]]))).toContain('twice');
    expect(await refusal(craftArchive([...good, { path: 'extra.txt', data: 'hi' }]))).toContain('extra.txt');
    expect(await refusal(craftArchive([good[0]]))).toContain('workflows/a.json');
    expect(await refusal(craftArchive([good[1]]))).toContain('manifest.json');
  });

  it('stops at the size and entry caps (zip bombs, floods) and at bytes that are not an archive', async () => {
    const bomb = gzipSync(Buffer.alloc(ARCHIVE_LIMITS.expandedBytes + 1));
    expect(bomb.length).toBeLessThan(ARCHIVE_LIMITS.compressedBytes);
    expect(await refusal(bomb)).toContain('expands');
    const flood = Array.from({ length: ARCHIVE_LIMITS.entries + 1 }, (_, i) => ({
      path: `f${i}`,
      data: 'x',
    }));
    expect(await refusal(craftArchive(flood))).toContain('entries');
    const big = Buffer.alloc(ARCHIVE_LIMITS.entryBytes + 1, 'a');
    expect(await refusal(craftArchive([{ path: 'manifest.json', data: big }]))).toContain('larger');
    expect(await refusal(Buffer.from('not gzip at all'))).toContain('gzip');
    expect(await refusal(gzipSync(Buffer.from('plain text, not a tar')))).toContain('tar');
  });
});
