import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';

/** s3rver's built-in account. */
export const S3RVER_KEY = 'S3RVER';

export interface RunningS3 {
  endpoint: string;
  directory: string;
  stop(): Promise<void>;
}

/** A real S3-speaking server on a free loopback port, its files in a fresh temporary directory. */
export async function startS3rver(): Promise<RunningS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'conflux-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** `size` random bytes, generated as they are read (never held whole), and their SHA-256 once read. */
export function randomStream(size: number, chunk = 256 * 1024): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const bytes = randomBytes(Math.min(chunk, left));
      left -= bytes.length;
      hash.update(bytes);
      this.push(bytes);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

/** A PUT streamed with node:http (a declared Content-Length, as browsers send and S3 needs). */
export function httpPut(
  url: string,
  body: Readable | Buffer,
  options: { length?: number; contentType?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const length = Buffer.isBuffer(body) ? body.length : options.length;
    const req = http.request(url, {
      method: 'PUT',
      headers: {
        ...(length !== undefined ? { 'content-length': String(length) } : {}),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
        ...options.headers,
      },
    });
    req.once('error', reject);
    req.once('response', (res) => void collect(res).then(resolve, reject));
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** A GET whose body is hashed as it streams (never held whole) unless `keep` asks for the text. */
export function httpGet(
  url: string,
  method: 'GET' | 'HEAD' = 'GET',
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  size: number;
  sha256: string;
  text: string;
}> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method });
    req.once('error', reject);
    req.once('response', (res) => {
      const hash = createHash('sha256');
      let size = 0;
      let text = '';
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
        if (text.length < 64 * 1024) text += chunk.toString('utf8');
      });
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          size,
          sha256: hash.digest('hex'),
          text,
        }),
      );
    });
    req.end();
  });
}

async function collect(res: http.IncomingMessage): Promise<RawResponse> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: Record<string, unknown>;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { status: res.statusCode ?? 0, headers: res.headers, text, json };
}

export const sha256Of = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * The SigV4 query signature a verifying S3 store computes for `url` requested with `method` (s3rver does not
 * check signatures, so the suites check them here): equal to X-Amz-Signature only for the method, path and
 * parameters that were signed.
 */
export function sigV4QuerySignature(url: string, method: string, secretKey: string): string {
  const parsed = new URL(url);
  const params = [...parsed.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature');
  const query = params
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const signedHeaders = parsed.searchParams.get('X-Amz-SignedHeaders') ?? 'host';
  const headers = signedHeaders
    .split(';')
    .map((name) => `${name}:${name === 'host' ? parsed.host : ''}\n`)
    .join('');
  const canonical = [method, parsed.pathname, query, headers, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const amzDate = parsed.searchParams.get('X-Amz-Date') ?? '';
  const [, date, region, service] = (parsed.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Of(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}
