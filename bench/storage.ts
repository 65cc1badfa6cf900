/**
 * `npm run bench:storage`: uploads and downloads a BENCH_STORAGE_MB (200) MB object through the compiled API's
 * signed URLs (local store), the API running as its own process, and reports how much the API's resident
 * memory grows while the bytes stream through (target: under 50 MB). The baseline, in the same run, with the
 * same client and the same file: a bare node process (no framework) doing the raw stream copy,
 * `pipeline(req, fs.createWriteStream())` and `pipeline(fs.createReadStream(), res)`. Growth is the peak RSS
 * during a transfer (the kernel's high-water mark, reset before it, and 10 ms samples) minus the RSS just
 * before it. BENCH_NODE_ARGS passes node flags to both servers (e.g. `--max-semi-space-size=1`). Numbers, not
 * a test.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { API_NODE_FLAGS } from '../src/node-flags';
import { findFreePort } from '../src/core/net/free-port';
import { call, loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import { createTestBackends, relaxRateLimits, startTestApi } from '../test/support/harness';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_STORAGE_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The baseline server: nothing but node:http and fs streams, one file for PUT and GET. */
const BASELINE_SERVER = `
const fs = require('node:fs');
const http = require('node:http');
const { pipeline } = require('node:stream/promises');
const file = process.argv[1] + '/baseline.bin';
const server = http.createServer((req, res) => {
  if (req.method === 'PUT') {
    pipeline(req, fs.createWriteStream(file)).then(() => res.end('{}'), () => res.writeHead(500).end());
  } else {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    pipeline(fs.createReadStream(file), res).catch(() => undefined);
  }
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

interface Sample {
  up: number;
  down: number;
  upRate: number;
  downRate: number;
}

/** Resident and peak-resident memory of a process, from /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets the peak (VmHWM) to the current RSS; where the kernel refuses, the samples alone find the peak. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function measured<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; growth: number; seconds: number; before: number; peak: number }> {
  const before = memoryOf(pid).rss;
  const reset = resetPeak(pid);
  let sampled = before;
  const timer = setInterval(() => (sampled = Math.max(sampled, memoryOf(pid).rss)), 10);
  const began = performance.now();
  try {
    const result = await work();
    const seconds = (performance.now() - began) / 1000;
    const after = memoryOf(pid);
    const peak = Math.max(sampled, after.rss, reset ? after.hwm : 0);
    return { result, growth: peak - before, seconds, before, peak };
  } finally {
    clearInterval(timer);
  }
}

function put(url: string, file: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'PUT',
      headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    createReadStream(file).pipe(req);
  });
}

function get(url: string): Promise<{ status: number; size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const hash = createHash('sha256');
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          hash.update(chunk);
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex') }));
        res.once('error', reject);
      })
      .once('error', reject);
  });
}

/** A child process, once its output matches `ready` (with that match). */
async function launch(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
      const found = ready.exec(output.join(''));
      if (found) resolve(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited (${code}):\n${output.join('')}`)),
    );
  });
  return { child, match };
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);
const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);

/** A file of random bytes, written in 1 MB chunks, and its SHA-256. */
async function randomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    (async function* () {
      for (let left = size; left > 0; left -= MB) {
        const chunk = randomBytes(Math.min(MB, left));
        hash.update(chunk);
        yield chunk;
      }
    })(),
    createWriteStream(file),
  );
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'conflux-bench-storage-'));
  const size = SIZE_MB * MB;
  const source = path.join(dir, 'source.bin');
  const sha256 = await randomFile(source, size);

  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends();
  await relaxRateLimits(backends);
  const storageEnv = { STORAGE_DIR: path.join(dir, 'store'), UPLOAD_LIMIT: `${SIZE_MB + 1}mb` };
  const setup = await startTestApi({ ...backends.env, ...storageEnv });
  const tenant = await onboardTenant(setup.url, await loginAdmin(setup.url), 'bench');
  await setup.close();

  const port = await findFreePort(20_000 + Math.floor(Math.random() * 20_000));
  const apiUrl = `http://127.0.0.1:${port}`;
  // The compiled API, as production runs it (`npm run bench:storage` builds first).
  const { child: api } = await launch(
    [...API_NODE_FLAGS, ...NODE_ARGS, path.join(__dirname, '../dist/main.js')],
    { ...backends.env, ...storageEnv, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    /Conflux API (is running|listening)/,
  );
  const { child: baseline, match } = await launch(
    [...NODE_ARGS, '-e', BASELINE_SERVER, dir],
    {},
    /listening (\d+)/,
  );
  const baselineUrl = `http://127.0.0.1:${match[1]}/object`;

  const sign = async (method: 'GET' | 'PUT') => {
    const res = await call(apiUrl, 'POST', '/api/v1/storage/signed-url', {
      credentials: tenant.ownerKey,
      body: { path: 'bench/object.bin', method },
    });
    if (res.status !== 200) throw new Error(`signing failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.url as string;
  };
  const variants = [
    { name: 'conflux', pid: api.pid as number, url: sign },
    { name: 'baseline', pid: baseline.pid as number, url: async () => baselineUrl },
  ];

  try {
    // Code paths loaded and connection pools filled before anything is measured.
    const small = path.join(dir, 'small.bin');
    await randomFile(small, MB);
    for (const variant of variants) {
      await put(await variant.url('PUT'), small, MB);
      await get(await variant.url('GET'));
    }
    console.log(
      `object: ${SIZE_MB} MB, ${ROUNDS} rounds${NODE_ARGS.length ? `, node ${NODE_ARGS.join(' ')}` : ''}; ` +
        'growth = peak RSS during the transfer - RSS just before it',
    );
    const results = new Map<string, Sample[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of variants) {
        const putUrl = await variant.url('PUT');
        const up = await measured(variant.pid, () => put(putUrl, source, size));
        if (up.result !== 200) throw new Error(`${variant.name} upload answered ${up.result}`);
        const getUrl = await variant.url('GET');
        const down = await measured(variant.pid, () => get(getUrl));
        if (down.result.sha256 !== sha256 || down.result.size !== size) {
          throw new Error(`${variant.name} download differs from what was uploaded`);
        }
        const sample = {
          up: up.growth,
          down: down.growth,
          upRate: SIZE_MB / up.seconds,
          downRate: SIZE_MB / down.seconds,
        };
        results.set(variant.name, [...(results.get(variant.name) ?? []), sample]);
        console.log(
          `round ${round} ${variant.name.padEnd(8)}  upload: RSS ${mb(up.before)} -> ${mb(up.peak)} MB ` +
            `(+${mb(up.growth)}), ${sample.upRate.toFixed(0)} MB/s   download: RSS ${mb(down.before)} -> ` +
            `${mb(down.peak)} MB (+${mb(down.growth)}), ${sample.downRate.toFixed(0)} MB/s   sha256 identical`,
        );
      }
    }
    const summary = (name: string) => {
      const samples = results.get(name) ?? [];
      const growth = samples.map((x) => Math.max(x.up, x.down));
      return {
        first: growth[0] ?? NaN,
        later: Math.max(0, ...growth.slice(1)),
        up: avg(samples.map((x) => x.upRate)),
        down: avg(samples.map((x) => x.downRate)),
      };
    };
    const c = summary('conflux');
    const b = summary('baseline');
    const verdict = (bytes: number) => (bytes < 50 * MB ? 'under the 50 MB target' : 'OVER the 50 MB target');
    console.log(`\nRSS growth while ${SIZE_MB} MB stream through (worst of upload and download):`);
    console.log(
      `  conflux API      first transfer +${mb(c.first)} MB (${verdict(c.first)}), later ones +${mb(c.later)} MB`,
    );
    console.log(`  raw stream copy  first transfer +${mb(b.first)} MB, later ones +${mb(b.later)} MB`);
    console.log(
      `throughput conflux / raw: upload ${c.up.toFixed(0)} / ${b.up.toFixed(0)} MB/s, ` +
        `download ${c.down.toFixed(0)} / ${b.down.toFixed(0)} MB/s`,
    );
  } finally {
    api.kill('SIGTERM');
    baseline.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await backends.cleanup();
    await stopBackends();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
