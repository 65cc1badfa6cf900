#!/usr/bin/env bash
# Generates a typed client from openapi.json (openapi-typescript) into a temp folder and type-checks, strictly,
# examples/client.ts against it, plus calls that must not compile: a document whose fields lose their types
# (`Record<string, never>`, `unknown`) or whose bodies drift from the README fails here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"

# Quiet unless it fails: its own lint pass does not read .redocly.lint-ignore.yaml (npm run openapi:lint does).
if ! generated="$(npx openapi-typescript openapi.json -o "$tmp/schema.d.ts" 2>&1)"; then
  echo "$generated" >&2
  exit 1
fi

# Each line must be a type error; an unused @ts-expect-error fails the check.
cat >"$tmp/type-errors.ts" <<'TS'
import type { call as Call } from './client';

declare const call: typeof Call;
const node = { id: 'a', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } };

export async function typeErrors(): Promise<void> {
  // @ts-expect-error name is a string
  await call('post', '/api/v1/workflows', { body: { name: 42 } });
  // @ts-expect-error a node's position is numbers
  await call('post', '/api/v1/workflows', { body: { name: 'x', definition: { nodes: [{ ...node, position: { x: '0', y: 0 } }], edges: [] } } });
  // @ts-expect-error a node's config is an object
  await call('post', '/api/v1/workflows', { body: { name: 'x', definition: { nodes: [{ ...node, data: { config: 'x' } }], edges: [] } } });
  // @ts-expect-error an edge needs its target
  await call('post', '/api/v1/workflows', { body: { name: 'x', definition: { nodes: [node], edges: [{ id: 'e', source: 'a' }] } } });
  // @ts-expect-error a definition has nodes and edges
  await call('post', '/api/v1/workflows', { body: { name: 'x', definition: { nodes: [] } } });
  // @ts-expect-error idempotency_key is a string
  await call('post', '/api/v1/workflows/{id}/run', { path: { id: 'w' }, body: { input: {}, idempotency_key: 1 } });
  // @ts-expect-error the run path needs its id
  await call('post', '/api/v1/workflows/{id}/run', { body: { input: {} } });
  // @ts-expect-error no such path
  await call('post', '/api/v1/workflow', { body: {} });
  // @ts-expect-error per_page is a number
  await call('get', '/api/v1/runs', { query: { per_page: 'all' } });
  const run = await call('get', '/api/v1/runs/{id}', { path: { id: 'r' } });
  // @ts-expect-error a run's status is one of the run statuses
  if (run.status === 'done') return;
  const steps = await call('get', '/api/v1/runs/{id}/steps', { path: { id: 'r' } });
  // @ts-expect-error a step's attempt is a number
  const attempt: string = steps[0].attempt;
  void attempt;
}
TS

# rootDirs: examples/client.ts imports './schema', which is generated here.
cat >"$tmp/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "target": "ES2023",
    "lib": ["ES2023"],
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": ["node"],
    "typeRoots": ["$root/node_modules/@types"],
    "rootDirs": ["$root/examples", "$tmp"]
  },
  "files": ["$root/examples/client.ts", "$tmp/type-errors.ts"]
}
JSON

npx tsc -p "$tmp/tsconfig.json" --noEmit
echo 'client check: examples/client.ts type-checks against the client generated from openapi.json'
