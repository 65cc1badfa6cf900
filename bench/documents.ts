/**
 * `npm run bench:documents`: uploads a generated BENCH_DOCUMENTS_ROWS-row (1,000,000, about 100 MB) CSV to the
 * compiled API and extracts it with the compiled worker, both as their own processes. Reports the extraction's
 * rows/s (the job's started_at -> finished_at, as the worker recorded them), the worker's peak RSS during the job
 * (target: under 300 MB) and the API's RSS growth during each of two uploads of the file (target: flat), against the physical floor
 * measured in the same run: `COPY ... FROM STDIN (FORMAT csv)` of the same file into a table of the same types,
 * streamed with pg-copy-streams from this process (target: Conflux at 0.5x of its throughput or better). Numbers,
 * not a test.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { findFreePort } from '../src/core/net/free-port';
import { API_NODE_FLAGS, WORKER_NODE_FLAGS } from '../src/node-flags';
import { uploadFile } from './upload';
import { call, loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import { createTestBackends, relaxRateLimits, startTestApi, waitFor } from '../test/support/harness';

const MB = 1024 * 1024;
const ROWS = Number(process.env.BENCH_DOCUMENTS_ROWS ?? 1_000_000);
const COLUMNS = 'id bigint, customer text, amount numeric, day date, active boolean, note text';

/** Resident and peak-resident memory of a process, from /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The peak RSS of `pid` while `work` runs (10 ms samples, and the kernel's high-water mark when it can be reset). */
async function peakDuring<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number }> {
  const before = memoryOf(pid).rss;
  let reset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    reset = false;
  }
  let sampled = before;
  const timer = setInterval(() => (sampled = Math.max(sampled, memoryOf(pid).rss)), 10);
  try {
    const result = await work();
    const after = memoryOf(pid);
    return { result, before, peak: Math.max(sampled, after.rss, reset ? after.hwm : 0) };
  } finally {
    clearInterval(timer);
  }
}

async function generate(file: string): Promise<void> {
  await pipeline(
    (async function* () {
      yield 'id,customer,amount,day,active,note\n';
      let batch = '';
      for (let i = 1; i <= ROWS; i += 1) {
        const day = `2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`;
        batch += `${i},customer ${i % 9973},${(i % 100_000) / 100},${day},${i % 3 === 0},"order ${i} shipped, see ticket #${(i * 7919) % 1_000_000} for details"\n`;
        if (batch.length > 1 << 20) {
          yield batch;
          batch = '';
        }
      }
      yield batch;
    })(),
    createWriteStream(file),
  );
}

async function launch(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
      if (ready.test(output.join(''))) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited (${code}):\n${output.join('')}`)),
    );
  });
  return child;
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'conflux-bench-documents-'));
  const file = path.join(dir, 'orders.csv');
  await generate(file);
  const size = statSync(file).size;

  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends();
  await relaxRateLimits(backends);
  const env = {
    ...backends.env,
    STORAGE_DIR: path.join(dir, 'store'),
    UPLOAD_LIMIT: `${Math.ceil(size / MB) + 10}mb`,
  };
  const setup = await startTestApi(env);
  const tenant = await onboardTenant(setup.url, await loginAdmin(setup.url), 'bench');
  await setup.close();
  const key = tenant.ownerKey.headers['x-api-key'];

  const port = await findFreePort(20_000 + Math.floor(Math.random() * 20_000));
  const apiUrl = `http://127.0.0.1:${port}`;
  // The compiled processes, as production runs them (`npm run bench:documents` builds first; BENCH_DIST names
  // another build directory, e.g. one `tsc -p tsconfig.build.json --outDir` emitted).
  const dist = process.env.BENCH_DIST ?? path.join(__dirname, '../dist');
  const entry = (name: string) => [
    ...(name === 'worker' ? WORKER_NODE_FLAGS : API_NODE_FLAGS),
    path.join(dist, `${name}.js`),
  ];
  const api = await launch(
    entry('main'),
    { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    /Conflux API (is running|listening)/,
  );
  const worker = await launch(
    entry('worker'),
    { ...env, LOG_LEVEL: 'info', WORKER_QUEUES: 'documents' },
    /consuming /,
  );
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  try {
    console.log(`file: ${ROWS} rows, ${mb(size)} MB (${COLUMNS})`);

    // Twice: the first upload also pays the API's one-time growth (code paths compiled, pools and buffers
    // allocated for the first time), the second shows what an upload itself costs.
    const uploads: Array<{ result: { status: number; body: string }; before: number; peak: number }> = [];
    for (const nth of ['first', 'second']) {
      const up = await peakDuring(api.pid as number, () =>
        uploadFile(`${apiUrl}/api/v1/documents`, key, file, 'orders.csv'),
      );
      if (up.result.status !== 201) throw new Error(`upload answered ${up.result.status}: ${up.result.body}`);
      uploads.push(up);
      console.log(
        `${nth} upload: API RSS ${mb(up.before)} -> peak ${mb(up.peak)} MB (+${mb(up.peak - up.before)} MB)`,
      );
    }
    const document = JSON.parse(uploads[0].result.body) as { id: string };

    const job = await peakDuring(worker.pid as number, async () => {
      const created = await call(apiUrl, 'POST', '/api/v1/jobs', {
        credentials: tenant.ownerKey,
        body: { document_id: document.id },
      });
      if (created.status !== 201) throw new Error(`POST /jobs answered ${created.status}`);
      return waitFor(
        async () => {
          const res = await call(apiUrl, 'GET', `/api/v1/jobs/${created.body.id as string}`, {
            credentials: tenant.ownerKey,
          });
          return res.body.status === 'succeeded' || res.body.status === 'failed' ? res.body : undefined;
        },
        'the extraction job',
        30 * 60_000,
        200,
      );
    });
    if (job.result.status !== 'succeeded') throw new Error(`the job failed: ${job.result.error as string}`);
    const seconds =
      (Date.parse(job.result.finished_at as string) - Date.parse(job.result.started_at as string)) / 1000;
    const conflux = ROWS / seconds;
    console.log(
      `conflux extraction: ${ROWS} rows in ${seconds.toFixed(2)} s = ${Math.round(conflux)} rows/s; ` +
        `worker RSS ${mb(job.before)} -> peak ${mb(job.peak)} MB (${job.peak < 300 * MB ? 'under' : 'OVER'} the 300 MB target)`,
    );

    await db.query(`CREATE TABLE bench_raw_copy (${COLUMNS})`);
    const began = performance.now();
    await pipeline(
      createReadStream(file),
      db.query(copyFrom('COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)')),
    );
    const rawSeconds = (performance.now() - began) / 1000;
    const raw = ROWS / rawSeconds;
    console.log(
      `raw COPY FROM STDIN (pg-copy-streams): ${rawSeconds.toFixed(2)} s = ${Math.round(raw)} rows/s`,
    );
    const ratio = conflux / raw;
    console.log(
      `\nconflux / raw COPY throughput: ${ratio.toFixed(2)}x (${ratio >= 0.5 ? 'meets' : 'BELOW'} the 0.5x target); ` +
        `API RSS growth during a ${mb(size)} MB upload: ` +
        uploads.map((up) => `+${mb(up.peak - up.before)} MB`).join(' (first), ') +
        ' (second)',
    );
  } finally {
    await db.end();
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await backends.cleanup();
    await stopBackends();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
