/**
 * A typed Conflux client with nothing but fetch. Its types are generated from openapi.json with
 * `npx openapi-typescript openapi.json -o <dir>/schema.d.ts`; `npm run client:check` does that in a temp folder
 * and type-checks this file against them. It creates, publishes and runs the README's workflow (the import is
 * type-only, so it runs without the generated file):
 *
 *   CONFLUX_API_KEY=cfx_... npx ts-node -T examples/client.ts
 */
import type { paths } from './schema';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
/** The paths that have an `M` operation. */
type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends undefined ? never : P;
}[keyof paths];
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type Success<O> = O extends { responses: infer R }
  ? {
      [S in keyof R]: S extends 200 | 201
        ? R[S] extends { content: { 'application/json': infer T } }
          ? T
          : never
        : never;
    }[keyof R]
  : never;
/** `path`, `query` and `header` as the operation declares them, and its JSON body. */
type Request<O> = (O extends { parameters: infer Params } ? Params : never) &
  (JsonBody<O> extends undefined ? { body?: never } : { body: JsonBody<O> });

const baseUrl = process.env.CONFLUX_URL ?? 'http://localhost:3000';
const apiKey = process.env.CONFLUX_API_KEY ?? '';

export async function call<M extends Method, P extends PathsWith<M>>(
  method: M,
  path: P,
  request: Request<Operation<P, M>>,
): Promise<Success<Operation<P, M>>> {
  const {
    path: params,
    query,
    header,
    body,
  } = request as {
    path?: Record<string, string>;
    query?: Record<string, string | number | boolean | undefined>;
    header?: Record<string, string>;
    body?: unknown;
  };
  const url = new URL(
    path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params?.[name] ?? '')),
    baseUrl,
  );
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  const response = await fetch(url, {
    method: method.toUpperCase(),
    headers: {
      'X-API-Key': apiKey,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...header,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method.toUpperCase()} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Success<Operation<P, M>>;
}

async function main(): Promise<void> {
  if (!apiKey) throw new Error('Set CONFLUX_API_KEY (an API key of a member or owner)');
  const workflow = await call('post', '/api/v1/workflows', {
    body: {
      name: 'double it',
      definition: {
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, data: { config: {} } },
          {
            id: 'double',
            type: 'transform',
            position: { x: 0, y: 100 },
            data: { config: { expression: 'input.n * 2' } },
          },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'double' }],
      },
    },
  });
  const published = await call('post', '/api/v1/workflows/{id}/publish', { path: { id: workflow.id } });
  const run = await call('post', '/api/v1/workflows/{id}/run', {
    path: { id: published.id },
    header: { 'X-Idempotency-Key': 'order-1001' },
    body: { input: { n: 21 } },
  });
  console.log(`workflow ${published.id} (${published.status}), run ${run.id} (${run.status})`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
