import { describe, expect, it } from '@jest/globals';
import { arrayElements } from './json-reader';

async function elements(...chunks: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const element of arrayElements(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push(element);
  return out;
}

describe('arrayElements', () => {
  it('splits a top-level array across chunk boundaries, strings and nesting included', async () => {
    expect(await elements('[{"a": "x,]}", "b": [1, {"c"', ': 2}]}, ', '{"a": "\\"q\\""}]')).toEqual([
      { a: 'x,]}', b: [1, { c: 2 }] },
      { a: '"q"' },
    ]);
    expect(await elements(' [ ] ')).toEqual([]);
  });

  it('names what is wrong', async () => {
    await expect(elements('{"a": 1}')).rejects.toThrow('JSON must be an array of objects');
    await expect(elements('[{"a": 1}, {"b": }]')).rejects.toThrow('malformed JSON in element 2');
    await expect(elements('[{"a": 1}')).rejects.toThrow('not closed');
    await expect(elements('[1,,2]')).rejects.toThrow('empty element');
    await expect(elements('[1] x')).rejects.toThrow('after the closing ]');
  });
});
