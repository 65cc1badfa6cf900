import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { WorkflowDefinition } from '../../workflows/entities/workflow.entity';
import { validateWorkflow } from '../../workflows/workflow-validator';
import { TEMPLATES_DIR } from './templates-dir';

/** Variables every run has, whatever the template declares. */
export const BUILTIN_VARIABLES = ['tenant_id', 'pipeline_id', 'date', 'trigger_by'] as const;

export interface TemplateVariable {
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean';
  description: string;
  default?: string | number | boolean;
  enum?: Array<string | number>;
}

/** One `templates/<provider>/<domain>/<template>.yaml`, checked and turned into a workflow definition. */
export interface PipelineTemplate {
  provider: string;
  domain: string;
  template: string;
  /** `<provider>/<domain>/<template>` */
  key: string;
  description: string;
  variables: TemplateVariable[];
  definition: WorkflowDefinition;
  /** The declared variables as a JSON Schema: the run's input is checked against it. */
  inputSchema: Record<string, unknown>;
  /** Of the file's bytes: a changed template installs as a new workflow version. */
  sha256: string;
}

const NAME = '^[a-z][a-z0-9_]{0,62}$';
const FILE_SCHEMA = {
  type: 'object',
  required: ['description', 'workflow'],
  additionalProperties: false,
  properties: {
    description: { type: 'string', minLength: 1, maxLength: 2000 },
    variables: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { enum: ['string', 'number', 'integer', 'boolean'] },
          description: { type: 'string' },
          default: { type: ['string', 'number', 'boolean'] },
          enum: { type: 'array', minItems: 1, items: { type: ['string', 'number'] } },
        },
      },
    },
    workflow: {
      type: 'object',
      required: ['nodes'],
      additionalProperties: false,
      properties: {
        nodes: {
          type: 'array',
          minItems: 2,
          items: {
            type: 'object',
            required: ['id', 'type'],
            additionalProperties: false,
            properties: {
              id: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
              type: { type: 'string' },
              label: { type: 'string' },
              config: { type: 'object' },
              retry: { type: 'object' },
              timeout_ms: { type: 'integer' },
            },
          },
        },
        edges: {
          type: 'array',
          items: {
            type: 'object',
            required: ['source', 'target'],
            additionalProperties: false,
            properties: {
              source: { type: 'string' },
              target: { type: 'string' },
              sourceHandle: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;

const checkFile = new Ajv({ allErrors: true, strict: false }).compile(FILE_SCHEMA);

interface TemplateFile {
  description: string;
  variables?: Record<string, Omit<TemplateVariable, 'name'>>;
  workflow: {
    nodes: Array<{
      id: string;
      type: string;
      label?: string;
      config?: Record<string, unknown>;
      retry?: Record<string, unknown>;
      timeout_ms?: number;
    }>;
    edges?: Array<{ source: string; target: string; sourceHandle?: string }>;
  };
}

/** A template that cannot be used: the process refuses to start, naming the file. */
export class TemplateError extends Error {
  constructor(file: string, problem: string) {
    super(`pipeline template ${file}: ${problem}`);
    this.name = 'TemplateError';
  }
}

/** The longest value a string variable may take. */
export const MAX_VARIABLE_LENGTH = 1000;

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

/**
 * `{name}` in config strings becomes the `{{ input.name }}` template the engine renders per step, so variables
 * reach steps as data through the run's input; a string that is one placeholder keeps the variable's type.
 */
function substitute(value: unknown, known: Set<string>, used: Set<string>, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_match, name: string) => {
      if (!known.has(name)) throw new Error(`${where} uses {${name}}, which is not a declared variable`);
      used.add(name);
      return `{{ input.${name} }}`;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, known, used, `${where}[${i}]`));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, known, used, `${where}.${k}`)]),
    );
  return value;
}

function inputSchemaOf(variables: TemplateVariable[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    tenant_id: { type: 'string' },
    pipeline_id: { type: 'string' },
    date: {
      type: 'string',
      format: 'date',
      description: 'The run date (YYYY-MM-DD, UTC); today by default.',
    },
    trigger_by: { type: 'string', maxLength: 200 },
  };
  for (const v of variables)
    properties[v.name] = {
      type: v.type,
      // Variables land in the run's input and records: a string is a value, not a payload.
      ...(v.type === 'string' ? { maxLength: MAX_VARIABLE_LENGTH } : {}),
      ...(v.description ? { description: v.description } : {}),
      ...(v.enum ? { enum: v.enum } : {}),
    };
  return {
    type: 'object',
    additionalProperties: false,
    required: [...BUILTIN_VARIABLES, ...variables.filter((v) => v.default === undefined).map((v) => v.name)],
    properties,
  };
}

/** Reads, checks and converts one template file; a TemplateError says what is wrong with it. */
export async function loadTemplate(file: string, relative: string): Promise<PipelineTemplate> {
  const [provider, domain, name] = relative.replace(/\.ya?ml$/, '').split(path.sep);
  const bytes = readFileSync(file);
  let parsed: unknown;
  try {
    parsed = parseYaml(bytes.toString('utf8'));
  } catch (error) {
    throw new TemplateError(relative, `not valid YAML: ${(error as Error).message}`);
  }
  if (!checkFile(parsed)) {
    const problems = (checkFile.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    throw new TemplateError(relative, problems.join('; '));
  }
  const body = parsed as TemplateFile;
  const variables = Object.entries(body.variables ?? {}).map(([key, v]) => ({
    ...v,
    name: key,
    description: v.description ?? '',
  }));
  const clash = variables.find((v) => (BUILTIN_VARIABLES as readonly string[]).includes(v.name));
  if (clash) throw new TemplateError(relative, `variable '${clash.name}' is built in and cannot be declared`);
  const known = new Set<string>([...BUILTIN_VARIABLES, ...variables.map((v) => v.name)]);
  const used = new Set<string>();
  const nodes = body.workflow.nodes.map((node, i) => {
    let config: unknown;
    try {
      config = substitute(node.config ?? {}, known, used, `node '${node.id}' config`);
    } catch (error) {
      throw new TemplateError(relative, (error as Error).message);
    }
    return {
      id: node.id,
      type: node.type,
      position: { x: i * 240, y: 0 },
      data: {
        label: node.label ?? node.id,
        config: config as Record<string, unknown>,
        ...(node.retry ? { retry: node.retry as { max_attempts: number; backoff_ms: number } } : {}),
        ...(node.timeout_ms ? { timeout_ms: node.timeout_ms } : {}),
      },
    };
  });
  const edges = (
    body.workflow.edges ??
    nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id, sourceHandle: undefined }))
  ).map((edge) => ({
    id: `${edge.source}->${edge.target}`,
    source: edge.source,
    target: edge.target,
    ...(edge.sourceHandle ? { sourceHandle: edge.sourceHandle } : {}),
  }));
  const definition = { nodes, edges } as WorkflowDefinition;
  const inputSchema = inputSchemaOf(variables);
  const problems = await validateWorkflow(definition, inputSchema, {
    lookupWorkflow: () => Promise.resolve(undefined),
  });
  if (problems.length > 0) throw new TemplateError(relative, problems.join('; '));
  const unused = variables.filter((v) => !used.has(v.name));
  if (unused.length > 0)
    throw new TemplateError(relative, `declared but unused: ${unused.map((v) => v.name).join(', ')}`);
  return {
    provider,
    domain,
    template: name,
    key: `${provider}/${domain}/${name}`,
    description: body.description,
    variables,
    definition,
    inputSchema,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Every `templates/<provider>/<domain>/<template>.yaml` under `dir`, in path order. */
export async function loadTemplates(dir: string = TEMPLATES_DIR): Promise<PipelineTemplate[]> {
  const segment = /^[a-z][a-z0-9_]{0,62}$/;
  const found: PipelineTemplate[] = [];
  const list = (at: string) =>
    readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const provider of list(dir).filter((e) => e.isDirectory())) {
    for (const domain of list(path.join(dir, provider.name)).filter((e) => e.isDirectory())) {
      for (const file of list(path.join(dir, provider.name, domain.name))) {
        if (!/\.ya?ml$/.test(file.name)) continue;
        const relative = path.join(provider.name, domain.name, file.name);
        const name = file.name.replace(/\.ya?ml$/, '');
        if (![provider.name, domain.name, name].every((s) => segment.test(s)))
          throw new TemplateError(
            relative,
            'provider, domain and template names must match ^[a-z][a-z0-9_]*$',
          );
        const full = path.join(dir, relative);
        if (!statSync(full).isFile()) continue;
        found.push(await loadTemplate(full, relative));
      }
    }
  }
  return found;
}
