import { describe, expect, it } from '@jest/globals';
import { MetricsQueryUnsupportedException } from './observability.exceptions';
import { confineToTenant, parseFallbackQuery } from './promql';

describe('confineToTenant: a tenant_id matcher on every selector, placed by the parser', () => {
  it.each([
    ['up', 'up{tenant_id="acme"}'],
    ['up{}', 'up{tenant_id="acme"}'],
    ['{__name__="up"}', '{tenant_id="acme",__name__="up"}'],
    ['rate(x{a="1"}[5m] offset 1h)', 'rate(x{tenant_id="acme",a="1"}[5m] offset 1h)'],
    ['max_over_time(rate(x[1m])[30m:1m])', 'max_over_time(rate(x{tenant_id="acme"}[1m])[30m:1m])'],
    ['a / on (b) group_left c', 'a{tenant_id="acme"} / on (b) group_left c{tenant_id="acme"}'],
    // A brace inside a string is not a selector: text splicing would have broken this query.
    [
      'label_replace(x, "dst", "{y}", "src", "(.*)")',
      'label_replace(x{tenant_id="acme"}, "dst", "{y}", "src", "(.*)")',
    ],
    ['x{tenant_id="globex"}', 'x{tenant_id="acme",tenant_id="globex"}'],
  ])('%s', (query, confined) => {
    expect(confineToTenant(query, 'acme')).toBe(confined);
  });

  it('refuses a query that does not parse', () => {
    expect(() => confineToTenant('sum(', 'acme')).toThrow(/Not valid PromQL/);
  });
});

describe('parseFallbackQuery: the subset the local fallback evaluates', () => {
  it('parses selectors, aggregations and rate/increase', () => {
    expect(parseFallbackQuery('sum without (instance) (increase(x{a=~"b|c"}[90s]))')).toEqual({
      kind: 'aggregate',
      op: 'sum',
      grouping: { mode: 'without', labels: ['instance'] },
      expr: {
        kind: 'function',
        name: 'increase',
        selector: {
          kind: 'selector',
          matchers: [
            { label: '__name__', op: '=', value: 'x' },
            { label: 'a', op: '=~', value: 'b|c' },
          ],
          rangeMs: 90_000,
        },
      },
    });
  });

  it.each(['x + 1', 'topk(2, x)', 'x offset 5m', 'rate(x[5m:1m])', 'abs(x)', '{a="b"}', '1'])(
    'refuses %s naming what it supports',
    (query) => {
      expect(() => parseFallbackQuery(query)).toThrow(MetricsQueryUnsupportedException);
    },
  );
});
