import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startupBanner } from '../src/main';
import { apiKey, call, type Credentials } from './support/auth';
import {
  createTestBackends,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from './support/harness';

/**
 * The README's example requests, run as a user would run them against `npm start`: every fenced block tagged
 * ```` ```bash example=<id> ```` (GitHub still renders it as bash), in README order, in bash with
 * `set -euo pipefail`, against a fresh API with a worker. Shell variables and functions a block defines (TOKEN,
 * KEY, WF, wait_run, ...) carry over to the next block, as in one terminal. `http://localhost:3000` (and
 * `ws://`) become this API's address. As for a user of `npm start`, the admin is the default
 * `admin@conflux.local` with the password the API printed at its first start, exported as `ADMIN_PASSWORD`.
 *
 * Stricter than a terminal: `curl` runs with `--fail-with-body`, so any HTTP error fails its block, except in
 * commands that print the status themselves (`-w '%{http_code}'`), whose output the checks below assert.
 */
const README = path.join(__dirname, '..', 'README.md');
const README_BASE = /\b(http|ws):\/\/localhost:3000\b/g;
const TOOLS = ['bash', 'curl', 'jq', 'openssl', 'date', 'cut'];
const BLOCK_TIMEOUT_MS = 60_000;

interface Example {
  id: string;
  /** The README line of the opening fence. */
  line: number;
  code: string;
}

interface Fence {
  info: string;
  line: number;
  code: string;
}

function fencesOf(markdown: string): Fence[] {
  const fences: Fence[] = [];
  let open: { info: string; line: number; body: string[] } | undefined;
  markdown.split('\n').forEach((text, index) => {
    if (!open) {
      const start = /^```(.*)$/.exec(text);
      if (start) open = { info: start[1].trim(), line: index + 1, body: [] };
    } else if (/^```\s*$/.test(text)) {
      fences.push({ info: open.info, line: open.line, code: open.body.join('\n') });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  return fences;
}

const exampleId = (fence: Fence) =>
  fence.info.split(/\s+/)[0] === 'bash'
    ? fence.info
        .split(/\s+/)
        .find((word) => word.startsWith('example='))
        ?.slice('example='.length)
    : undefined;

const fences = fencesOf(readFileSync(README, 'utf8'));
const examples: Example[] = fences.flatMap((fence) => {
  const id = exampleId(fence);
  return id ? [{ id, line: fence.line, code: fence.code }] : [];
});

const missingTools = TOOLS.filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
);
const runnable = missingTools.length === 0 ? it : it.skip;

interface BlockResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The variables the README's blocks have set so far, after this block. */
  vars: Record<string, string>;
}

let backends: TestBackends;
let api: RunningApi;
let worker: { stop(): Promise<void> } | undefined;
let work: string;
let adminPassword: string;

/** One block in a fresh bash that first restores what the earlier blocks defined, and saves it after. */
function runBlock(example: Example): Promise<BlockResult> {
  const state = path.join(work, 'state.sh');
  const varsFile = path.join(work, 'vars');
  const code = example.code.replace(README_BASE, (_, scheme: string) =>
    scheme === 'ws' ? api.url.replace(/^http/, 'ws') : api.url,
  );
  const preamble = [
    `curl() { case " $* " in *" -w "* | *" --write-out "*) command curl "$@" ;; *) command curl --fail-with-body "$@" ;; esac; }`,
    '__vars=$(compgen -v); __funcs=$(compgen -A function)',
    `source ${JSON.stringify(state)}`,
    'set -euo pipefail',
    `trap 'echo "README.md:$((LINENO - __offset + ${example.line})): failed: $BASH_COMMAND" >&2' ERR`,
  ];
  const script = [
    ...preamble,
    `__offset=${preamble.length + 1}`,
    code,
    'set +eu',
    '{',
    '  for __v in $(compgen -v); do',
    '    case $__v in __* | BASH* | PIPESTATUS | _) continue ;; esac',
    '    grep -qxF "$__v" <<<"$__vars" || declare -p "$__v"',
    '  done',
    '  for __f in $(compgen -A function); do grep -qxF "$__f" <<<"$__funcs" || declare -f "$__f"; done',
    `} > ${JSON.stringify(`${state}.next`)} && mv ${JSON.stringify(`${state}.next`)} ${JSON.stringify(state)}`,
    'for __v in $(compgen -v); do',
    '  case $__v in __* | BASH* | PIPESTATUS | _) continue ;; esac',
    `  grep -qxF "$__v" <<<"$__vars" || printf '%s=%s\\0' "$__v" "\${!__v}"`,
    `done > ${JSON.stringify(varsFile)}`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-c', script], {
      cwd: work,
      // A clean environment: no ~/.curlrc, nothing of this process but PATH.
      env: { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', ADMIN_PASSWORD: adminPassword },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BLOCK_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      let vars: Record<string, string> = {};
      if (exitCode === 0) {
        vars = Object.fromEntries(
          readFileSync(varsFile, 'utf8')
            .split('\0')
            .filter(Boolean)
            .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
        );
      }
      resolve({ code: exitCode, stdout, stderr, vars });
    });
  });
}

const get = async (path: string, credentials: Credentials) => {
  const res = await call(api.url, 'GET', path, { credentials });
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown> & {
    items: Array<Record<string, unknown>>;
    total: number;
    status: string;
    context: { steps: Record<string, { status: string; output?: unknown }> };
  };
};

/** What each example must have done, beyond exiting 0 (read back through the API where it can be). */
const CHECKS: Record<string, (result: BlockResult) => Promise<void>> = {
  identity: async ({ stdout, vars }) => {
    expect(vars.TOKEN).toMatch(/^eyJ/);
    expect(vars.KEY).toMatch(/^cfx_/);
    expect(vars.OWNER_TOKEN).toMatch(/^eyJ/);
    expect(stdout).toContain('"role":"owner","via":"api_key","tenant_id":"acme"');
    expect(stdout).toContain('{"role":"owner","via":"jwt","tenant_id":"acme"}');
    const key = apiKey(vars.KEY);
    const users = await get('/api/v1/users', key);
    expect(users.items.map((u) => u.email).sort()).toEqual(['ana@acme.test', 'owner@acme.test']);
    expect((await get('/api/v1/api-keys', key)).items.map((k) => k.name)).toContain('ci');
    expect(await get('/api/v1/tenants/acme', key)).toMatchObject({
      config: { region: 'eu' },
      config_version: 2,
    });
    expect(stdout).toContain('"valid":true');
  },
  workflows: async ({ stdout, vars }) => {
    const key = apiKey(vars.KEY);
    expect(await get(`/api/v1/workflows/${vars.WF}`, key)).toMatchObject({ status: 'published', version: 1 });
    const drafts = await get('/api/v1/workflows?status=draft', key);
    expect(drafts.items).toEqual([expect.objectContaining({ name: 'double it', version: 2 })]);
    expect(stdout).toContain('"valid":true,"errors":[]');
    expect(stdout).toContain('"approval"');
  },
  runs: async ({ stdout, vars }) => {
    const run = await get(`/api/v1/runs/${vars.RUN}`, apiKey(vars.KEY));
    expect(run.status).toBe('completed');
    expect(run.context.steps.double).toEqual({ status: 'completed', output: 42 });
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['completed', '200']));
    expect(stdout).toContain('run.completed');
  },
  approval: async ({ stdout, vars }) => {
    const key = apiKey(vars.KEY);
    const run = await get(`/api/v1/runs/${vars.RUN2}`, key);
    expect(run.status).toBe('completed');
    expect(run.context.steps.refund.output).toEqual({ order: 'A-1001', approved_by: 'ana' });
    const lines = stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining(['paused', 'completed', '{"order":"A-1001","approved_by":"ana"}']),
    );
    const events = (await call(api.url, 'GET', `/api/v1/runs/${vars.RUN2}/events`, { credentials: key }))
      .body as unknown as Array<{ event_type: string }>;
    expect(events.map((e) => e.event_type)).toContain('run.resumed');
  },
  webhook: async ({ stdout, vars }) => {
    const key = apiKey(vars.KEY);
    const run = await get(`/api/v1/runs/${vars.HOOK_RUN}`, key);
    expect(run).toMatchObject({ status: 'completed', trigger_type: 'webhook' });
    expect(run.context.steps.branch.output).toBe('main');
    expect(stdout.split('\n')).toContain('200');
    expect((await get(`/api/v1/runs?workflow_id=${vars.HOOK}`, key)).total).toBe(1);
  },
  schedule: async ({ stdout, vars }) => {
    expect(vars.SCHEDULE).toMatch(/^[0-9a-f-]{36}$/);
    expect(stdout).toContain('next_fire_times');
    expect(stdout.split('\n')).toContain('204');
    expect((await get('/api/v1/triggers/schedules', apiKey(vars.KEY))).total).toBe(0);
  },
  ops: async ({ stdout }) => {
    expect(stdout).toMatch(/^\{"status":"healthy","checks":\{"database":"up","redis":"up","workers":"up"/m);
    expect(stdout).toMatch(/^conflux_runs_started_total\{trigger_type="manual",[^}]*\} [1-9]/m);
    expect(stdout).toContain('"api-key"');
    expect(stdout).toContain('"request_id":"trace-1"');
    expect(stdout.split('\n')).toContain('404');
  },
  packages: async ({ stdout, vars }) => {
    const key = apiKey(vars.KEY);
    const workflow = await get(`/api/v1/workflows/${vars.PKG_WF}`, key);
    expect(workflow).toMatchObject({ status: 'published', package_name: 'orders', package_version: '1.0.0' });
    const artifact = await get(`/api/v1/wpk/artifacts/${vars.ART}`, key);
    expect(artifact).toMatchObject({
      signed: true,
      sha256: workflow.package_sha256,
      deployed_at: expect.any(String),
    });
    expect(stdout).toContain('"reason":"unsigned"');
    expect(stdout.split('\n')).toContain('400');
    expect(stdout).toContain('"signed":true');
  },
  access: async ({ stdout, vars }) => {
    expect(stdout).toContain('{"record":0,"action":"run","allowed":false,"fields":[]}');
    expect(stdout).toContain('{"record":1,"action":"read","allowed":true,"fields":["id","status"]}');
    expect(stdout.split('\n')).toContain('403');
    expect(stdout).toContain('"event_type":"policy.denied"');
    const runs = await get(`/api/v1/runs?workflow_id=${vars.PROD_WF}`, apiKey(vars.KEY));
    expect(runs.total).toBe(0);
  },
  assistant: async ({ stdout }) => {
    const [suggested, answered] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(suggested).toMatchObject({
      source: 'builtin',
      titles: expect.arrayContaining(['Count rows of tenant_pipeline_runs']),
    });
    expect(suggested.titles).toHaveLength(3);
    expect(answered.sql).toMatch(
      /^SELECT status, count\(\*\) AS row_count\nFROM tenant_pipeline_runs\nGROUP BY status/,
    );
    expect(answered.rows).toEqual(expect.arrayContaining([['COMPLETE', expect.any(Number)]]));
  },
  observability: async ({ stdout }) => {
    const [metrics, logs, verification, board] = stdout.trim().split('\n');
    expect(JSON.parse(metrics)).toEqual({ status: 'success', type: 'vector' });
    const entries = JSON.parse(logs) as Array<{ tenant_id: string; process: string }>;
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries)
      expect(entry).toMatchObject({ tenant_id: 'acme', process: expect.stringMatching(/^(api|worker):/) });
    expect(JSON.parse(verification)).toEqual({ score: 100, failed: [] });
    expect(board).toBe('200');
  },
  documents: async ({ stdout, vars }) => {
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[0])).toEqual({
      name: vars.NAME,
      row_count: 2,
      columns: [
        { name: 'sku', type: 'text' },
        { name: 'qty', type: 'bigint' },
        { name: 'price', type: 'numeric' },
        { name: 'zip', type: 'text' },
      ],
    });
    expect(JSON.parse(lines[1])).toEqual([
      ['A-1', '4.50'],
      ['B-2', '200'],
    ]);
    expect(lines.slice(2, 5)).toEqual(['sku,qty,price,zip', 'A-1,3,1.50,02134', 'B-2,10,20,00501']);
    expect(JSON.parse(lines[5])).toEqual({
      verified: true,
      actions: [
        'document.uploaded',
        'job.created',
        'job.started',
        'table.created',
        'job.succeeded',
        'table.exported',
      ],
    });
  },
  pipelines: async ({ stdout, vars }) => {
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[0])).toEqual(
      expect.arrayContaining(['aws/cost/billing_cost', 'gcp/cost/billing_cost']),
    );
    expect(JSON.parse(lines[1])).toEqual({
      pipeline_id: 'acme-aws-cost-billing_cost',
      status: 'COMPLETE',
      trigger_by: 'readme',
    });
    const byCategory = JSON.parse(lines[2]) as Array<[string, number, string]>;
    expect(byCategory.map(([category]) => category)).toEqual(
      expect.arrayContaining(['Credit', 'Tax', 'Usage']),
    );
    expect(byCategory.reduce((n, [, count]) => n + count, 0)).toBe(5000);
    const checks = JSON.parse(lines[3]) as Array<[string, boolean]>;
    expect(checks).toHaveLength(5);
    expect(checks.every(([, passed]) => passed)).toBe(true);
    expect(JSON.parse(lines[4])).toContain('acme-aws-cost-billing_cost');
    expect(vars.RUN).toMatch(/^[0-9a-f-]{36}$/);
  },
};

describe('README examples', () => {
  it(`finds the tools the examples need (${TOOLS.join(', ')})`, () => {
    if (missingTools.length > 0) {
      throw new Error(
        `The README's examples need ${missingTools.join(', ')}, not found on PATH. ` +
          `Install them (Debian/Ubuntu: apt-get install -y ${missingTools.filter((t) => t !== 'date' && t !== 'cut').join(' ')}); ` +
          'the example tests are skipped until then.',
      );
    }
  });

  it('tags every bash block with a curl request as an example, and checks each example', () => {
    const untagged = fences.filter(
      (fence) => fence.info.split(/\s+/)[0] === 'bash' && !exampleId(fence) && /^\s*curl\s/m.test(fence.code),
    );
    expect(untagged.map((fence) => `README.md:${fence.line}`)).toEqual([]);
    expect(examples.map((example) => example.id)).toEqual(Object.keys(CHECKS));
  });

  describe('run in order against a fresh API and worker', () => {
    beforeAll(async () => {
      if (missingTools.length > 0) return;
      work = mkdtempSync(path.join(tmpdir(), 'conflux-readme-'));
      writeFileSync(path.join(work, 'state.sh'), '');
      // What `npm start` gives a user: the default admin with a generated password, default plans and rate
      // limits, a worker.
      backends = await createTestBackends({ ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
      api = await startTestApi(backends.env);
      // What `npm start` prints once it is up.
      const banner = await startupBanner(api.app, 'Conflux is running');
      const shown = /Platform admin: (\S+)\n\s+Password:\s+(\S+)/.exec(banner);
      expect(shown?.[1]).toBe('admin@conflux.local');
      adminPassword = shown?.[2] ?? '';
      worker = await startInProcessWorker(backends.env);
    });

    afterAll(async () => {
      await worker?.stop();
      await api?.close();
      await backends?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    for (const example of examples) {
      runnable(`${example.id} (README.md:${example.line}) runs and does what it says`, async () => {
        const result = await runBlock(example);
        if (result.code !== 0) {
          throw new Error(
            `README example '${example.id}' (README.md:${example.line}) exited ${result.code}\n` +
              `--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`,
          );
        }
        await CHECKS[example.id]?.(result);
      });
    }
  });
});
