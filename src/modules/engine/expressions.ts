import jsonata from 'jsonata';

const TIME_LIMIT_MS = 1000;
const DEPTH_LIMIT = 300;
const MAX_RESULT_BYTES = 1024 * 1024;

export class ExpressionError extends Error {}

/**
 * Evaluates JSONata against the run context with a time and depth limit and a result size cap: expressions
 * are tenant data, never code, and must not hold a worker.
 */
export async function evaluate(expression: string, context: unknown): Promise<unknown> {
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(expression);
  } catch (error) {
    throw new ExpressionError(`expression does not compile: ${(error as Error).message}`);
  }
  const started = Date.now();
  let depth = 0;
  const guard = () => {
    if (depth > DEPTH_LIMIT) throw new ExpressionError('expression nests too deeply');
    if (Date.now() - started > TIME_LIMIT_MS)
      throw new ExpressionError(`expression took longer than ${TIME_LIMIT_MS} ms`);
  };
  compiled.assign('__evaluate_entry', () => {
    depth += 1;
    guard();
  });
  compiled.assign('__evaluate_exit', () => {
    depth -= 1;
    guard();
  });
  let result: unknown;
  try {
    result = await compiled.evaluate(context);
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    throw new ExpressionError(`expression failed: ${(error as Error).message}`);
  }
  if (result !== undefined && Buffer.byteLength(JSON.stringify(result) ?? '') > MAX_RESULT_BYTES) {
    throw new ExpressionError('expression result is larger than 1 MB');
  }
  return result;
}

const WHOLE_TEMPLATE = /^\{\{([\s\S]*?)\}\}$/;
const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;

/**
 * Renders `{{ jsonata }}` templates in every string of a config. A string that is one template keeps the
 * value's type (`"{{ input.count }}"` gives a number); templates inside text are interpolated.
 */
export async function renderTemplates(value: unknown, context: unknown): Promise<unknown> {
  if (typeof value === 'string') {
    const whole = WHOLE_TEMPLATE.exec(value);
    if (whole) return evaluate(whole[1], context);
    const parts = await Promise.all(
      [...value.matchAll(TEMPLATE)].map((match) => evaluate(match[1], context)),
    );
    let index = 0;
    return value.replace(TEMPLATE, () => {
      const part = parts[index++];
      return typeof part === 'string' ? part : part === undefined ? '' : JSON.stringify(part);
    });
  }
  if (Array.isArray(value)) return Promise.all(value.map((item) => renderTemplates(item, context)));
  if (value && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await renderTemplates(item, context)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}
