import { describe, expect, it } from '@jest/globals';
import { LogStoreSink, MAX_STORED_LINE } from './log-store-sink';
import { createLogger } from './logger';

async function stored(log: (logger: ReturnType<typeof createLogger>) => void, level = 'silent') {
  const sink = new LogStoreSink('worker');
  const lines: string[] = [];
  sink.attach((batch) => Promise.resolve(void lines.push(...batch)));
  const stdout: string[] = [];
  log(createLogger(level, { write: (line: string) => void stdout.push(line) }, sink));
  await sink.detach();
  return {
    lines: lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    raw: lines.join('\n'),
    stdout,
  };
}

describe('LogStoreSink: what the local log store keeps', () => {
  it('keeps warn and above and every line with a request id, whatever LOG_LEVEL says for stdout', async () => {
    const { lines, stdout } = await stored((logger) => {
      logger.info('boot chatter');
      logger.debug({ request_id: 'r0' }, 'below info');
      logger.info({ request_id: 'r1' }, 'request completed');
      logger.warn('slow');
      logger.error('broken');
    });
    expect(lines.map((line) => line.msg)).toEqual(['request completed', 'slow', 'broken']);
    expect(lines[0]).toMatchObject({ request_id: 'r1', process: expect.stringMatching(/^worker:.+:\d+$/) });
    expect(stdout).toEqual([]);
  });

  it('stores lines as redacted as stdout has them', async () => {
    const { raw, stdout } = await stored((logger) => {
      logger.warn(
        { password: 'pw-top', headers: { authorization: 'Bearer tok-1', 'x-api-key': 'cfx_key' } },
        'a',
      );
      logger.warn({ user: { password: 'pw-nested', api_key: 'k-2', token: 't-3' }, secret: 's-4' }, 'b');
    }, 'warn');
    for (const secret of ['pw-top', 'tok-1', 'cfx_key', 'pw-nested', 'k-2', 't-3', 's-4']) {
      expect(raw).not.toContain(secret);
      expect(stdout.join('')).not.toContain(secret);
    }
    expect(raw).toContain('[redacted]');
  });

  it('stores an oversized line as its fixed fields only', async () => {
    const { lines } = await stored((logger) =>
      logger.warn({ request_id: 'big', blob: 'x'.repeat(MAX_STORED_LINE) }, 'huge'),
    );
    expect(lines).toEqual([
      {
        level: 'warn',
        time: expect.any(String),
        msg: 'huge',
        request_id: 'big',
        truncated: true,
        process: expect.any(String),
      },
    ]);
  });

  it('holds what is logged before a writer is attached, up to a bound', async () => {
    const sink = new LogStoreSink('api');
    const logger = createLogger('silent', undefined, sink);
    for (let i = 0; i < 6000; i++) logger.warn({ i }, 'early');
    const lines: string[] = [];
    sink.attach((batch) => Promise.resolve(void lines.push(...batch)));
    await sink.detach();
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[0])).toMatchObject({ i: 1000 });
  });
});
