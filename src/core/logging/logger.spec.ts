import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { requestContext } from '../tenancy/request-context';
import { createLogger } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('logger', () => {
  it('writes JSON lines that carry the request id inside a request', () => {
    const { lines, logger } = capture();
    requestContext.run({ requestId: 'req-42' }, () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'inside',
      request_id: 'req-42',
      service: 'conflux',
    });
    expect(lines[1]).not.toHaveProperty('request_id');
  });

  it('does not repeat a request id that a child logger already binds', () => {
    const { lines, logger } = capture();
    requestContext.run({ requestId: 'req-7' }, () => logger.child({ request_id: 'req-7' }).info('child'));
    expect(Object.keys(lines[0]).filter((k) => k === 'request_id')).toHaveLength(1);
  });
});
