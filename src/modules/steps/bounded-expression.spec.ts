import { describe, expect, it } from '@jest/globals';
import { boundedExpression } from './bounded-expression';

describe('boundedExpression', () => {
  it('lets through paths, literals, operators, constructors and linear built-ins', () => {
    for (const expression of [
      'input.i',
      'steps.a.output + 1',
      '$count(steps.a.output) > 2 ? "many" : "few"',
      '{"total": $sum(input.items.price), "names": [input.a, "b"]}',
      '-input.x * 2 & "!"',
      'input.kind in ["a", "b"] and $exists(input.id)',
      '$',
    ])
      expect(boundedExpression(expression)).toBeDefined();
  });

  it('keeps out what can loop, blow up or multiply its input', () => {
    for (const expression of [
      '($f := function($x){ $f($x) }; $f(1))', // recursion
      '[1..9999999]', // a range
      '$pad("", 1100000, "x")', // a width
      'input.items[price > 1]', // a filter
      'input.items.(price)', // a block step
      'input{"a": b}', // grouping
      '**.a', // descendants
      '*.a', // a wildcard
      '$sort(input.items)', // a built-in outside the list
      'input.a ~> $string', // apply
      '$match(input.s, /a+/)', // a regex
      '$x', // a variable
      '[$, $, $, $, $]', // more references than the cap
      '[$string(), $string(), $string(), $string(), $string()]', // the input taken implicitly, as often
      'input.(', // does not compile
      `${'-'.repeat(20_000)}1`, // nests deeper than the stack
    ])
      expect(boundedExpression(expression)).toBeUndefined();
  });
});
