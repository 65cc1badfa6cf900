import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EngineConfig } from '../../../core/config/engine.config';
import { HttpRequestExecutor } from './http-request.executor';
import { PermanentStepError, type StepContext } from '../step-executor';
import { assertReachable, isBlockedAddress } from './ssrf';

const REFUSED = [
  ['loopback', 'http://127.0.0.1/'],
  ['loopback, short form', 'http://127.1/'],
  ['loopback, decimal', 'http://2130706433/'],
  ['loopback, hex', 'http://0x7f000001/'],
  ['loopback, octal', 'http://017700000001/'],
  ['localhost by name', 'http://localhost/'],
  ['IPv6 loopback', 'http://[::1]/'],
  ['unspecified', 'http://0.0.0.0/'],
  ['IPv6 unspecified', 'http://[::]/'],
  ['private 10/8', 'http://10.1.2.3/'],
  ['private 172.16/12', 'http://172.31.255.1/'],
  ['private 192.168/16', 'http://192.168.0.10/'],
  ['link-local / cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['carrier-grade NAT', 'http://100.64.0.1/'],
  ['multicast', 'http://224.0.0.1/'],
  ['reserved', 'http://240.0.0.1/'],
  ['IPv6 unique local', 'http://[fd00::1]/'],
  ['IPv6 AWS metadata', 'http://[fd00:ec2::254]/'],
  ['IPv6 link-local', 'http://[fe80::1]/'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
  ['IPv4-mapped metadata, hex', 'http://[::ffff:a9fe:a9fe]/'],
  ['NAT64 loopback', 'http://[64:ff9b::7f00:1]/'],
  ['NAT64 private', 'http://[64:ff9b::a00:1]/'],
  ['6to4 loopback', 'http://[2002:7f00:1::]/'],
  ['6to4 metadata', 'http://[2002:a9fe:a9fe::1]/'],
] as const;

describe('SSRF guard', () => {
  for (const [what, url] of REFUSED) {
    it(`refuses ${what}: ${url}`, async () => {
      await expect(assertReachable(new URL(url), new Set())).rejects.toThrow(/refused to connect/);
    });
  }

  it('lets public addresses through', async () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '64:ff9b::808:808']) {
      expect([address, isBlockedAddress(address)]).toEqual([address, false]);
    }
    await expect(assertReachable(new URL('http://93.184.216.34/'), new Set())).resolves.toBeUndefined();
  });

  it('lets an allow-listed host through', async () => {
    await expect(
      assertReachable(new URL('http://127.0.0.1:8080/x'), new Set(['127.0.0.1'])),
    ).resolves.toBeUndefined();
  });
});

describe('http.request executor', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect')
        return void res.writeHead(302, { location: `http://localhost:${port}/ok` }).end();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ key: req.headers['idempotency-key'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const context = (url: string): StepContext => ({
    tenantId: 't',
    runId: 'run-1',
    stepId: 'call',
    attempt: 1,
    node: { id: 'call', type: 'http.request', data: { config: {} } },
    config: { method: 'GET', url },
    context: { input: {}, steps: {} },
    input: {},
    signal: new AbortController().signal,
  });
  const executor = (allow?: string) =>
    new HttpRequestExecutor({
      HTTP_STEP_ALLOW_HOSTS: allow,
      ENGINE_HTTP_MAX_BYTES: 1024 * 1024,
    } as EngineConfig);

  it('refuses a loopback target by default, for good (no retry)', async () => {
    await expect(executor().execute(context(`http://127.0.0.1:${port}/ok`))).rejects.toThrow(
      PermanentStepError,
    );
  });

  it('calls an allow-listed host, sending Idempotency-Key <run>:<step>', async () => {
    const outcome = await executor('127.0.0.1').execute(context(`http://127.0.0.1:${port}/ok`));
    expect(outcome).toMatchObject({
      kind: 'completed',
      output: { status: 200, body: { key: 'run-1:call' } },
    });
  });

  it('checks every redirect: an allowed host cannot bounce the step to a refused one', async () => {
    await expect(executor('127.0.0.1').execute(context(`http://127.0.0.1:${port}/redirect`))).rejects.toThrow(
      /refused to connect to localhost/,
    );
  });
});
