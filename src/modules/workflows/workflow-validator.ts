import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import addFormats from 'ajv-formats';
import jsonata from 'jsonata';
import { RE2JS } from 're2js';
import type { WorkflowDefinition, WorkflowStatus } from './entities/workflow.entity';
import { isTrigger, STEPS_BY_TYPE } from '../steps/catalog';

export const MAX_NODES = 500;

/**
 * Tenants write `input_schema`s, so their `pattern`s and `patternProperties` run on RE2 (linear in the input),
 * never on the backtracking RegExp: `^(a+)+$` against 32 `a`s and a `!` cannot freeze the API. A pattern RE2
 * does not support (backreferences, lookaround) fails to compile, which publishing reports.
 */
const re2: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = RE2JS.compile(pattern, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
    // Ajv shares one compiled regex per `toString()` across every schema of the instance: without its own,
    // every pattern would read "[object Object]" and all would run the first one compiled.
    return { test: (text: string) => re.matcher(text).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 're2js' },
);
const ajv = new Ajv({ allErrors: true, strict: false, code: { regExp: re2 } });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();
/** Compiled input schemas by their JSON, bounded: ajv would otherwise keep every schema object it saw. */
const inputValidators = new Map<string, ValidateFunction>();
const MAX_INPUT_VALIDATORS = 500;

function configValidator(type: string, schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(type);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(type, validate);
  }
  return validate;
}

function describeAjv(errors: ErrorObject[] | null | undefined, root: string): string[] {
  return (errors ?? []).map((e) => {
    const path = `${root}${e.instancePath}`;
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    if (allowed) return `${path} must be one of ${allowed.join(', ')}`;
    if (extra) return `${path} has unknown property '${extra}'`;
    return `${path} ${e.message ?? 'is invalid'}`;
  });
}

/** Checks a JSONata expression compiles; the error message, or undefined. */
export function jsonataError(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    const e = error as { message?: string; position?: number };
    return `${e.message ?? 'invalid expression'}${e.position !== undefined ? ` (position ${e.position})` : ''}`;
  }
}

export const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;

function templateErrors(value: unknown, path: string): string[] {
  if (typeof value === 'string') {
    return [...value.matchAll(TEMPLATE)].flatMap((match) => {
      const error = jsonataError(match[1]);
      return error ? [`template {{${match[1]}}} in ${path} does not compile: ${error}`] : [];
    });
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => templateErrors(item, `${path}/${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => templateErrors(item, `${path}/${key}`));
  }
  return [];
}

export interface ValidationContext {
  /** The workflow being validated (a workflow.call to itself is refused). */
  workflowId?: string;
  /** Status of another workflow of the same tenant, for workflow.call targets. */
  lookupWorkflow(id: string): Promise<WorkflowStatus | undefined>;
}

/**
 * Every problem of a workflow at once, as sentences naming the node or edge, in a stable order: what the
 * editor shows beside the graph and what publishing refuses.
 */
export async function validateWorkflow(
  definition: WorkflowDefinition,
  inputSchema: Record<string, unknown> | null,
  context: ValidationContext,
): Promise<string[]> {
  const errors: string[] = [];
  const { nodes, edges } = definition;

  if (nodes.length > MAX_NODES)
    errors.push(`workflow has ${nodes.length} nodes; at most ${MAX_NODES} are allowed`);

  const ids = new Set<string>();
  for (const node of nodes) {
    if (ids.has(node.id)) errors.push(`node '${node.id}': duplicate node id`);
    ids.add(node.id);
  }
  const triggers = nodes.filter((node) => isTrigger(node.type));
  if (triggers.length === 0) errors.push('workflow has no trigger node; exactly one is required');
  if (triggers.length > 1) {
    errors.push(
      `workflow has ${triggers.length} trigger nodes (${triggers.map((t) => t.id).join(', ')}); exactly one is allowed`,
    );
  }

  const edgeIds = new Set<string>();
  const types = new Map(nodes.map((node) => [node.id, node.type]));
  for (const edge of edges) {
    if (edgeIds.has(edge.id)) errors.push(`edge '${edge.id}': duplicate edge id`);
    edgeIds.add(edge.id);
    if (!ids.has(edge.source)) errors.push(`edge '${edge.id}': source '${edge.source}' is not a node`);
    if (!ids.has(edge.target)) errors.push(`edge '${edge.id}': target '${edge.target}' is not a node`);
    const sourceType = types.get(edge.source) ?? '';
    const handles = STEPS_BY_TYPE.get(sourceType)?.branch?.handles;
    if (handles && !handles.includes(edge.sourceHandle ?? '')) {
      const allowed = handles.map((handle) => `"${handle}"`).join(' or ');
      errors.push(`edge '${edge.id}' from ${sourceType} '${edge.source}': sourceHandle must be ${allowed}`);
    }
    if (ids.has(edge.target) && isTrigger(types.get(edge.target) ?? '')) {
      errors.push(`edge '${edge.id}': trigger '${edge.target}' cannot have incoming edges`);
    }
  }

  const cycle = findCycle(
    nodes.map((n) => n.id),
    edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  );
  if (cycle) errors.push(`cycle: ${cycle.join(' -> ')}`);
  if (triggers.length === 1 && !cycle) {
    const reachable = reachableFrom(triggers[0].id, edges);
    for (const node of nodes) {
      if (!reachable.has(node.id)) errors.push(`node '${node.id}' is not reachable from the trigger`);
    }
  }

  for (const node of nodes) {
    const step = STEPS_BY_TYPE.get(node.type);
    const label = `node '${node.id}' (${node.type})`;
    if (!step) {
      errors.push(`node '${node.id}': unknown step type '${node.type}'`);
      continue;
    }
    const config = node.data?.config ?? {};
    const validate = configValidator(step.type, step.config_schema);
    if (!validate(config))
      errors.push(...describeAjv(validate.errors, 'config').map((e) => `${label}: ${e}`));
    for (const field of step.expressionFields ?? []) {
      const expression = config[field];
      if (typeof expression !== 'string') continue;
      const error = jsonataError(expression);
      if (error) errors.push(`${label}: ${field} does not compile: ${error}`);
    }
    const templated = Object.fromEntries(
      Object.entries(config).filter(([key]) => !(step.expressionFields ?? []).includes(key)),
    );
    errors.push(...templateErrors(templated, 'config').map((e) => `${label}: ${e}`));
    if (step.unavailable) errors.push(`${label}: not available yet: ${step.unavailable}`);
    if (step.type === 'workflow.call' && typeof config.workflow_id === 'string') {
      errors.push(...(await callTargetErrors(config.workflow_id, context)).map((e) => `${label}: ${e}`));
    }
  }

  if (inputSchema) {
    if (!ajv.validateSchema(inputSchema)) {
      // The meta-schema reports one mistake several ways (enum, type, anyOf): the first per place is enough.
      const firstPerPath = (ajv.errors ?? []).filter(
        (e, i, all) => all.findIndex((o) => o.instancePath === e.instancePath) === i,
      );
      errors.push(
        ...describeAjv(firstPerPath, 'input_schema').map(
          (e) => `input_schema is not a valid JSON Schema: ${e}`,
        ),
      );
    } else {
      try {
        ajv.compile(inputSchema);
      } catch (error) {
        errors.push(`input_schema is not a valid JSON Schema: ${(error as Error).message}`);
      }
    }
  }
  return errors;
}

async function callTargetErrors(targetId: string, context: ValidationContext): Promise<string[]> {
  if (targetId === context.workflowId) return ['a workflow cannot call itself'];
  if (!/^[0-9a-f-]{36}$/i.test(targetId)) return [];
  const status = await context.lookupWorkflow(targetId);
  if (!status) return [`workflow '${targetId}' does not exist`];
  if (status !== 'published') return [`workflow '${targetId}' is ${status}, not published`];
  return [];
}

/** A cycle as the node ids along it (first id repeated at the end), or undefined. */
function findCycle(ids: string[], edges: Array<{ source: string; target: string }>): string[] | undefined {
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of edges) next.get(edge.source)?.push(edge.target);
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    path.push(id);
    for (const target of next.get(id) ?? []) {
      if (state.get(target) === 'visiting') return [...path.slice(path.indexOf(target)), target];
      if (!state.has(target)) {
        const found = visit(target);
        if (found) return found;
      }
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return undefined;
}

function reachableFrom(start: string, edges: Array<{ source: string; target: string }>): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const edge of edges) {
      if (edge.source === id && !seen.has(edge.target)) {
        seen.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  return seen;
}

/** Validates run input against a workflow's input_schema; the problems, empty when it conforms. */
export function inputErrors(inputSchema: Record<string, unknown> | null, input: unknown): string[] {
  if (!inputSchema) return [];
  const key = JSON.stringify(inputSchema);
  let validate = inputValidators.get(key);
  if (!validate) {
    validate = ajv.compile(inputSchema);
    ajv.removeSchema(inputSchema);
    if (inputValidators.size >= MAX_INPUT_VALIDATORS)
      inputValidators.delete(inputValidators.keys().next().value as string);
    inputValidators.set(key, validate);
  }
  return validate(input) ? [] : describeAjv(validate.errors, 'input');
}
