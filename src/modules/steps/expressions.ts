import { type ChildProcess, spawn } from 'node:child_process';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type jsonata from 'jsonata';
import { EngineConfig } from '../../core/config/engine.config';
import { boundedExpression } from './bounded-expression';

const MAX_RESULT_BYTES = 1024 * 1024;
const MEMORY_LIMIT_MB = 64;
/** A string that is one template: it evaluates to the expression's value, whatever its type. */
const WHOLE_TEMPLATE = /^\{\{([\s\S]*?)\}\}$/;

export class ExpressionError extends Error {}

/**
 * What runs in each evaluation process. Plain JavaScript in a string, so the same code loads under ts-node, jest
 * and dist/ alike. Results travel back as JSON text: the size cap is checked on the bytes that would be stored,
 * and JSONata's decorated arrays arrive as plain ones.
 */
const EVALUATOR_SOURCE = `
const [jsonataPath, maxBytes] = [process.argv[1], Number(process.argv[2])];
const jsonata = require(jsonataPath);
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
const compiled = new Map();
const WHOLE = new RegExp(${JSON.stringify(WHOLE_TEMPLATE.source)});
const TEMPLATE = /\\{\\{([\\s\\S]*?)\\}\\}/g;
class Refused extends Error {}
function compile(expression) {
  let c = compiled.get(expression);
  if (!c) {
    try { c = jsonata(expression); } catch (e) { throw new Refused('expression does not compile: ' + e.message); }
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(expression, c);
  }
  return c;
}
async function evaluate(expression, context) {
  const c = compile(expression);
  try { return await c.evaluate(context); } catch (e) { throw new Refused('expression failed: ' + e.message); }
}
async function render(value, context) {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return evaluate(whole[1], context);
    const parts = [];
    for (const match of value.matchAll(TEMPLATE)) parts.push(await evaluate(match[1], context));
    let i = 0;
    return value.replace(TEMPLATE, () => {
      const part = parts[i++];
      return typeof part === 'string' ? part : part === undefined ? '' : JSON.stringify(part);
    });
  }
  if (Array.isArray(value)) { const out = []; for (const item of value) out.push(await render(item, context)); return out; }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = await render(item, context);
    return out;
  }
  return value;
}
process.on('message', async ({ op, source, context }) => {
  try {
    const result = op === 'render' ? await render(source, context) : await evaluate(source, context);
    const json = result === undefined ? undefined : JSON.stringify(result);
    if (json !== undefined && Buffer.byteLength(json) > maxBytes)
      throw new Refused('expression result is larger than ' + maxBytes / 1048576 + ' MB');
    process.send({ json });
  } catch (e) {
    process.send({ error: e instanceof Error ? e.message : String(e) });
  }
});
`;

interface Task {
  op: 'evaluate' | 'render';
  source: unknown;
  context: unknown;
  signal?: AbortSignal;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * One process, one evaluation at a time: an overrun kills the process and only that evaluation fails. A process
 * rather than a worker thread because a thread that overruns its heap limit with one large allocation takes
 * the whole worker down with it (V8's fatal out-of-memory), where a child only ends itself.
 */
class EvaluationProcess {
  private worker: ChildProcess;
  /** Until it said it is ready, and while it evaluates: a start-up never counts against an evaluation's limit. */
  busy = true;

  constructor(private readonly onIdle: () => void) {
    this.worker = this.spawn();
  }

  private spawn(): ChildProcess {
    const worker = spawn(
      process.execPath,
      [
        `--max-old-space-size=${MEMORY_LIMIT_MB}`,
        '-e',
        EVALUATOR_SOURCE,
        require.resolve('jsonata'),
        String(MAX_RESULT_BYTES),
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' },
    );
    worker.on('error', () => undefined); // surfaces as 'exit', which fails the evaluation in flight
    worker.once('message', () => {
      this.busy = false;
      worker.channel?.unref();
      this.onIdle();
    });
    worker.unref();
    worker.channel?.unref();
    return worker;
  }

  run(task: Task, limitMs: number): void {
    this.busy = true;
    const worker = this.worker;
    let settled = false;
    const finish = (outcome: () => void, replace: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      task.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('exit', onExit);
      outcome();
      if (replace) {
        worker.kill('SIGKILL');
        this.worker = this.spawn();
        return;
      }
      worker.channel?.unref();
      this.busy = false;
      this.onIdle();
    };
    const onMessage = (reply: { json?: string; error?: string }) =>
      finish(
        () =>
          reply.error !== undefined
            ? task.reject(new ExpressionError(reply.error))
            : task.resolve(reply.json === undefined ? undefined : (JSON.parse(reply.json) as unknown)),
        false,
      );
    // Out of memory is V8 aborting the process; anything else ending it mid-evaluation is reported alike.
    const onExit = () =>
      finish(
        () => task.reject(new ExpressionError(`expression used more than ${MEMORY_LIMIT_MB} MB of memory`)),
        true,
      );
    const onAbort = () => finish(() => task.reject(task.signal?.reason as Error), true);
    const timer = setTimeout(
      () => finish(() => task.reject(new ExpressionError(`expression took longer than ${limitMs} ms`)), true),
      limitMs,
    );
    worker.on('message', onMessage).on('exit', onExit);
    task.signal?.addEventListener('abort', onAbort, { once: true });
    // Referenced while it works, so a process waiting on an evaluation does not exit under it.
    worker.channel?.ref();
    worker.send({ op: task.op, source: task.source, context: task.context });
  }

  close(): void {
    this.worker.kill('SIGKILL');
  }
}

/**
 * Evaluates JSONata (expressions and `{{ }}` templates) in a small pool of child processes, never on the
 * calling event loop: expressions are tenant data, and one that loops forever (a tail-recursive function, a
 * huge range) must neither hold the worker nor stop other tenants' runs. Each evaluation has a time limit
 * (its process is killed when it overruns, or when the step's signal aborts on timeout or cancel), a heap
 * limit and a result size cap. The pool starts on first use, so a process that never evaluates (the API)
 * never starts one.
 */
@Injectable()
export class ExpressionEvaluator implements OnModuleDestroy {
  private pool: EvaluationProcess[] = [];
  private readonly queue: Task[] = [];
  private readonly compiled = new Map<string, jsonata.Expression | null>();

  constructor(private readonly config: EngineConfig) {}

  /** The expression's value against `context`. */
  evaluate(expression: string, context: unknown, signal?: AbortSignal): Promise<unknown> {
    const here = this.bounded(expression);
    if (here) return this.evaluateHere(here, context, signal);
    return this.submit('evaluate', expression, context, signal);
  }

  /**
   * `{{ jsonata }}` templates in every string of `value`: a string that is one template keeps the value's type
   * (`"{{ input.count }}"` gives a number); templates inside text are interpolated. Values without templates
   * are returned as they are.
   */
  render(value: unknown, context: unknown, signal?: AbortSignal): Promise<unknown> {
    if (!hasTemplate(value)) return Promise.resolve(value);
    const whole = typeof value === 'string' ? WHOLE_TEMPLATE.exec(value) : null;
    if (whole) return this.evaluate(whole[1], context, signal);
    return this.submit('render', value, context, signal);
  }

  /**
   * A bounded expression (see boundedExpression: its cost grows with its input, nothing can loop) runs here, on
   * this event loop, without the round trip to an evaluation process; with the same result cap and errors.
   */
  private async evaluateHere(
    compiled: jsonata.Expression,
    context: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (signal?.aborted) throw signal.reason as Error;
    let result: unknown;
    try {
      result = await compiled.evaluate(context);
    } catch (error) {
      throw new ExpressionError(`expression failed: ${(error as Error).message}`);
    }
    const json = result === undefined ? undefined : JSON.stringify(result);
    if (json !== undefined && Buffer.byteLength(json) > MAX_RESULT_BYTES)
      throw new ExpressionError(`expression result is larger than ${MAX_RESULT_BYTES / 1048576} MB`);
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  /** Compiled once per expression text (null: not bounded, it goes to an evaluation process). */
  private bounded(expression: string): jsonata.Expression | null {
    let compiled = this.compiled.get(expression);
    if (compiled === undefined) {
      compiled = boundedExpression(expression) ?? null;
      if (this.compiled.size >= 1000) this.compiled.clear();
      this.compiled.set(expression, compiled);
    }
    return compiled;
  }

  private submit(op: Task['op'], source: unknown, context: unknown, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const task: Task = { op, source, context, signal, resolve, reject };
      const dequeue = () => {
        const index = this.queue.indexOf(task);
        if (index < 0) return;
        this.queue.splice(index, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', dequeue, { once: true });
      task.resolve = (value) => {
        signal?.removeEventListener('abort', dequeue);
        resolve(value);
      };
      task.reject = (error) => {
        signal?.removeEventListener('abort', dequeue);
        reject(error);
      };
      this.queue.push(task);
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.pool.length === 0)
      this.pool = Array.from(
        { length: this.config.ENGINE_EXPRESSION_PROCESSES },
        () => new EvaluationProcess(() => this.dispatch()),
      );
    for (const evaluator of this.pool) {
      if (this.queue.length === 0) return;
      if (!evaluator.busy)
        evaluator.run(this.queue.shift() as Task, this.config.ENGINE_EXPRESSION_TIMEOUT_MS);
    }
  }

  onModuleDestroy(): void {
    for (const evaluator of this.pool) evaluator.close();
    this.pool = [];
  }
}

const TEMPLATE_MARK = '{{';

function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(TEMPLATE_MARK);
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (value && typeof value === 'object') return Object.values(value).some(hasTemplate);
  return false;
}
