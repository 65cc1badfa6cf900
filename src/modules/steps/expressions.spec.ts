import { afterAll, describe, expect, it } from '@jest/globals';
import { EngineConfig } from '../../core/config/engine.config';
import { ExpressionError, ExpressionEvaluator } from './expressions';

const config = Object.assign(new EngineConfig(), { ENGINE_EXPRESSION_TIMEOUT_MS: 3000 });
const evaluator = new ExpressionEvaluator(config);
const context = { input: { n: 20 }, steps: { a: { status: 'completed', output: [1, 2, 3] } } };

afterAll(() => evaluator.onModuleDestroy());

describe('ExpressionEvaluator', () => {
  it('evaluates JSONata against the context and renders templates keeping types', async () => {
    await expect(evaluator.evaluate('input.n * 2 + $sum(steps.a.output)', context)).resolves.toBe(46);
    await expect(
      evaluator.render(
        { n: '{{ input.n }}', text: 'n={{ input.n }}', list: ['{{ steps.a.output }}'] },
        context,
      ),
    ).resolves.toEqual({ n: 20, text: 'n=20', list: [[1, 2, 3]] });
    await expect(evaluator.render({ plain: 'no templates' }, context)).resolves.toEqual({
      plain: 'no templates',
    });
  });

  it('gives a bounded expression, evaluated in this process, the same result, cap and errors as a process', async () => {
    const big = { ...context, input: { n: 20, s: 'x'.repeat(600_000) } };
    for (const expression of [
      'input.n * 2 + $sum(steps.a.output)',
      '{"a": [input.n, "b"]}',
      'input.missing',
    ]) {
      // A block is not bounded: the same expression inside one goes to an evaluation process.
      const inProcess = await evaluator.evaluate(expression, context);
      expect(inProcess).toEqual(await evaluator.evaluate(`(${expression})`, context));
    }
    await expect(evaluator.evaluate('input.s & input.s', big)).rejects.toThrow(
      'expression result is larger than 1 MB',
    );
    await expect(evaluator.evaluate('(input.s & input.s)', big)).rejects.toThrow(
      'expression result is larger than 1 MB',
    );
    await expect(evaluator.evaluate('input.n + "x"', context)).rejects.toThrow(/^expression failed/);
    await expect(evaluator.evaluate('(input.n + "x")', context)).rejects.toThrow(/^expression failed/);
    await expect(evaluator.render('{{ input.n }}', context)).resolves.toBe(20);
  });

  it('stops a tail-recursive loop at its time limit, and the next evaluation runs at once', async () => {
    const began = Date.now();
    const forever = evaluator.evaluate('($f := function($x){ $f($x) }; $f(1))', context);
    // Evaluations keep being served while a thread is stuck: the event loop and the other thread are free.
    await expect(evaluator.evaluate('1 + 1', context)).resolves.toBe(2);
    await expect(forever).rejects.toThrow(new ExpressionError('expression took longer than 3000 ms'));
    // Stopped at its limit, not left running (the bound is loose for a loaded machine).
    expect(Date.now() - began).toBeLessThan(10_000);
    await expect(evaluator.evaluate('input.n', context)).resolves.toBe(20);
  });

  it('stops an expression that allocates past the heap limit', async () => {
    await expect(evaluator.evaluate('$count([1..9999999].[$, $, $])', context)).rejects.toThrow(
      /expression (used more than 64 MB|took longer than 3000 ms|failed)/,
    );
    await expect(evaluator.evaluate('"still here"', context)).resolves.toBe('still here');
  });

  it('refuses a result over 1 MB, an expression that does not compile, and one that fails', async () => {
    await expect(evaluator.evaluate('$pad("", 1100000, "x")', context)).rejects.toThrow(
      'expression result is larger than 1 MB',
    );
    await expect(evaluator.evaluate('input.(', context)).rejects.toThrow(/does not compile/);
    await expect(evaluator.evaluate('$number("x") + $error("boom")', context)).rejects.toThrow(
      /expression failed/,
    );
  });

  it('aborts a running evaluation when its signal fires (a step timeout or a cancel)', async () => {
    const controller = new AbortController();
    const forever = evaluator.evaluate('($f := function($x){ $f($x) }; $f(1))', context, controller.signal);
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    await expect(forever).rejects.toThrow('run cancelled');
    await expect(evaluator.evaluate('3', context)).resolves.toBe(3);
  });
});
