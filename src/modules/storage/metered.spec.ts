import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { metered, scavenging } from './metered';
import { ObjectTooLargeError } from './object-storage';

const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1024 * 1024, i));
const bytes = Buffer.concat(chunks);

async function collect(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('metered', () => {
  it('passes the bytes through and reports their size and SHA-256', async () => {
    const meter = metered();
    const [copied] = await Promise.all([
      collect(meter.stream),
      pipeline(Readable.from(chunks), meter.stream),
    ]);
    expect(copied.equals(bytes)).toBe(true);
    expect(meter.size()).toBe(bytes.length);
    expect(meter.sha256()).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('fails once more than maxBytes went by', async () => {
    const meter = metered(5 * 1024 * 1024);
    meter.stream.resume();
    await expect(pipeline(Readable.from(chunks), meter.stream)).rejects.toBeInstanceOf(ObjectTooLargeError);
  });
});

describe('scavenging', () => {
  it('hands on the source bytes unchanged (40 MB, past several collection points)', async () => {
    expect((await collect(scavenging(Readable.from(chunks)))).equals(bytes)).toBe(true);
  });

  it("fails with the source's error", async () => {
    const source = new PassThrough();
    const out = scavenging(source);
    out.resume();
    source.destroy(new Error('disk gone'));
    await expect(finished(out)).rejects.toThrow('disk gone');
  });

  it('closes the source when the reader goes away (an aborted download frees its file)', async () => {
    const source = new PassThrough();
    const out = scavenging(source);
    out.destroy();
    await expect(finished(source)).rejects.toThrow();
    expect(source.destroyed).toBe(true);
  });
});
