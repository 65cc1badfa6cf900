import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { requestContext } from '../tenancy/request-context';
import { createLogger, redactUrl } from './logger';

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

describe('log redaction', () => {
  it('never writes credentials, secrets or the SQL values a database error carries', () => {
    const { lines, logger } = capture();
    const dbError = Object.assign(new Error('duplicate key value violates unique constraint'), {
      query: 'INSERT INTO users (email, password_hash) VALUES ($1, $2)',
      parameters: ['ceo@acme.test', 'hunter2-hash'],
      detail: 'Key (email)=(ceo@acme.test) already exists.',
      driverError: { parameters: ['ceo@acme.test'], detail: 'Key (email)=(ceo@acme.test) already exists.' },
    });
    logger.error({ err: dbError }, 'insert failed');
    logger.info({ body: { password: 'pw-123456', api_key: 'cfx_secret_key', token: 'eyJ.x.y' } }, 'request');
    logger.info(
      { headers: { authorization: 'Bearer eyJ.a.b', 'x-api-key': 'cfx_other', cookie: 'sid=1' } },
      'hdr',
    );
    const text = JSON.stringify(lines);
    for (const secret of [
      'ceo@acme.test',
      'hunter2-hash',
      'INSERT INTO',
      'pw-123456',
      'cfx_secret_key',
      'eyJ',
      'cfx_other',
      'sid=1',
    ])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      msg: 'insert failed',
      err: { message: expect.stringContaining('duplicate key') },
    });
  });
});

describe('redactUrl', () => {
  it('replaces secret query values, by any secret name or a URL-only one (key, sig), and keeps the rest', () => {
    expect(
      redactUrl(
        '/files/a?X-Amz-Signature=s1&X-Amz-Credential=c1&key=k1&sig=s2&client_secret=c2&page=2&tokens=3',
      ),
    ).toBe(
      '/files/a?X-Amz-Signature=%5Bredacted%5D&X-Amz-Credential=%5Bredacted%5D&key=%5Bredacted%5D' +
        '&sig=%5Bredacted%5D&client_secret=%5Bredacted%5D&page=2&tokens=3',
    );
    expect(redactUrl('/workflows?page=1')).toBe('/workflows?page=1');
  });
});
