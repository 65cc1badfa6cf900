import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Requests generated from the committed OpenAPI document: for every operation, bodies built from its request
 * schema and then bent (wrong types, missing and unknown fields, boundary numbers, long and odd strings), and
 * random query values for its parameters. Seeded, so a failure replays with the same seed. Used by
 * `npm run fuzz` (10,000 requests) and by test/e2e/hostile/fuzz.e2e-spec.ts (fewer).
 */
type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};
interface Operation {
  method: string;
  path: string;
  body?: Schema;
  query: Array<{ name: string; schema?: Schema }>;
}
interface Document {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, { schema?: Schema }> };
        parameters?: Array<{ in: string; name: string; schema?: Schema }>;
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
}

export interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
}

export function loadOperations(): { operations: Operation[]; document: Document } {
  const document = JSON.parse(readFileSync(path.join(__dirname, '../../openapi.json'), 'utf8')) as Document;
  const operations = Object.entries(document.paths).flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: route,
      body: op.requestBody?.content?.['application/json']?.schema,
      query: (op.parameters ?? []).filter((p) => p.in === 'query'),
    })),
  );
  return { operations, document };
}

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_STRINGS = [
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000',
  '\ud83d\ude00',
  '../../etc/passwd',
  "'; DROP TABLE x; --",
  '{{ input }}',
  '%00',
  '\u202e',
];
const ODD_NUMBERS = [0, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e308, -0];

export class Fuzzer {
  private readonly random: () => number;

  constructor(
    private readonly document: Document,
    seed: number,
    private readonly ids: string[],
  ) {
    this.random = prng(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private resolve(schema: Schema | undefined): Schema {
    let current = schema ?? {};
    for (let hops = 0; current.$ref && hops < 10; hops += 1)
      current = this.document.components.schemas[current.$ref.split('/').pop() as string] ?? {};
    return current;
  }

  /** A value for the schema, usually of its shape, sometimes deliberately not. */
  value(raw: Schema | undefined, depth = 0): unknown {
    const schema = this.resolve(raw);
    if (this.chance(0.08)) return this.anything(depth);
    const alternatives = schema.oneOf ?? schema.anyOf ?? schema.allOf;
    if (alternatives?.length) return this.value(this.pick(alternatives), depth);
    if (schema.enum?.length) return this.chance(0.8) ? this.pick(schema.enum) : this.pick(ODD_STRINGS);
    switch (schema.type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          const required = schema.required?.includes(name);
          if (required ? this.chance(0.9) : this.chance(0.5)) out[name] = this.value(property, depth + 1);
        }
        if (this.chance(0.1)) out[`unknown_${Math.floor(this.random() * 100)}`] = this.anything(depth + 1);
        return out;
      }
      case 'array':
        return depth > 4
          ? []
          : Array.from({ length: Math.floor(this.random() * 4) }, () => this.value(schema.items, depth + 1));
      case 'integer':
      case 'number':
        return this.chance(0.6)
          ? Math.floor(
              (schema.minimum ?? 0) +
                this.random() * Math.min(1000, (schema.maximum ?? 1000) - (schema.minimum ?? 0) + 1),
            )
          : this.pick(ODD_NUMBERS);
      case 'boolean':
        return this.chance(0.9) ? this.chance(0.5) : 'yes';
      case 'string':
        return this.chance(0.5)
          ? this.pick(['acme', 'a@b.test', 'refs/heads/main', '* * * * *', ...this.ids])
          : this.pick(ODD_STRINGS);
      default:
        return this.anything(depth);
    }
  }

  private anything(depth: number): unknown {
    const kinds = [
      () => null,
      () => this.pick(ODD_NUMBERS),
      () => this.pick(ODD_STRINGS),
      () => this.chance(0.5),
      () => (depth > 4 ? [] : [this.anything(depth + 1)]),
      () => (depth > 4 ? {} : { a: this.anything(depth + 1) }),
    ];
    return this.pick(kinds)();
  }

  request(operation: Operation): FuzzRequest {
    const route = operation.path.replace(/\{[^}]+\}/g, () =>
      this.chance(0.7)
        ? this.pick(this.ids)
        : encodeURIComponent(String(this.pick(ODD_STRINGS)).slice(0, 50)),
    );
    const query = new URLSearchParams();
    for (const param of operation.query) {
      if (!this.chance(0.5)) continue;
      const value = this.value(param.schema);
      query.set(param.name, typeof value === 'string' ? value.slice(0, 200) : (JSON.stringify(value) ?? ''));
    }
    const search = query.toString();
    const body = operation.body ? JSON.stringify(this.value(operation.body)) : undefined;
    return { method: operation.method, path: `${route}${search ? `?${search}` : ''}`, body };
  }
}

export interface FuzzReport {
  seed: number;
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: Array<FuzzRequest & { status: number; answer: string }>;
}

/** Sends `count` generated requests, `concurrency` at a time, each with one of `credentials` in turn. */
export async function fuzz(options: {
  baseUrl: string;
  credentials: Array<Record<string, string>>;
  ids: string[];
  count: number;
  seed: number;
  concurrency?: number;
}): Promise<FuzzReport> {
  const { operations, document } = loadOperations();
  const fuzzer = new Fuzzer(document, options.seed, options.ids);
  const requests = Array.from({ length: options.count }, (_, i) => ({
    request: fuzzer.request(operations[i % operations.length]),
    headers: options.credentials[i % options.credentials.length],
  }));
  const report: FuzzReport = { seed: options.seed, sent: 0, byStatus: {}, serverErrors: [] };
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const { request, headers } = requests[next++];
      const res = await fetch(`${options.baseUrl}${request.path}`, {
        method: request.method,
        headers: {
          ...headers,
          ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: request.body,
        signal: AbortSignal.timeout(30_000),
      });
      const answer = await res.text();
      report.sent += 1;
      report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500) report.serverErrors.push({ ...request, status: res.status, answer });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, lane));
  return report;
}
