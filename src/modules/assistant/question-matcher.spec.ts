import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadModule } from 'libpg-query';
import { builtinSuggestions } from './builtin-suggester';
import { buildCatalogue, type Catalogue } from './catalogue';
import { answerQuestion, tokensOf } from './question-matcher';
import { ident } from './sql-text';

const column = (name: string, type: string, nullable = true) => ({ name, type, nullable });

function catalogue(): Catalogue {
  return buildCatalogue(
    'tenant_t',
    [
      {
        name: 'focus_billing',
        kind: 'table',
        row_estimate: 500,
        columns: [
          column('BilledCost', 'numeric(18,6)', false),
          column('EffectiveCost', 'numeric(18,6)', false),
          column('ListCost', 'numeric(18,6)', false),
          column('ChargePeriodStart', 'timestamp with time zone', false),
          column('BillingAccountId', 'text', false),
          column('ChargeCategory', 'text', false),
          column('ServiceCategory', 'text', false),
          column('ServiceName', 'text', false),
          column('RegionId', 'text'),
          column('ChargeDescription', 'text'),
          column('Tags', 'jsonb'),
        ],
      },
      {
        name: 'orders',
        kind: 'table',
        row_estimate: 10,
        columns: [
          column('id', 'integer', false),
          column('customer_id', 'integer', false),
          column('placed_on', 'date', false),
          column('order', 'text'),
          column('amount', 'numeric(12,2)', false),
        ],
      },
      {
        name: 'customers',
        kind: 'table',
        row_estimate: 3,
        columns: [column('id', 'integer', false), column('name', 'text', false), column('year', 'integer')],
      },
    ],
    {
      foreignKeys: [{ table: 'orders', columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] }],
      keys: new Set(['orders.id', 'customers.id']),
      distinct: new Map([['orders.order', -1]]),
    },
  );
}

beforeAll(async () => {
  await loadModule();
});

describe('catalogue', () => {
  it('classifies columns as measure, time, dimension, id, text or other', () => {
    const kinds = Object.fromEntries(
      catalogue().tables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, c.kind])),
    );
    expect(kinds).toMatchObject({
      'focus_billing.BilledCost': 'measure',
      'focus_billing.ChargePeriodStart': 'time',
      'focus_billing.BillingAccountId': 'id',
      'focus_billing.ServiceName': 'dimension',
      'focus_billing.ChargeDescription': 'text',
      'focus_billing.Tags': 'other',
      'orders.id': 'id',
      'orders.customer_id': 'id',
      'orders.amount': 'measure',
      // A string unique on every row labels rows; it is not something to group by.
      'orders.order': 'text',
      'customers.year': 'dimension',
    });
    expect(catalogue().tables[0].focus?.ServiceName?.name).toBe('ServiceName');
    expect(catalogue().tables[1].focus).toBeUndefined();
  });

  it('quotes identifiers only when Postgres needs it', () => {
    expect(ident('amount')).toBe('amount');
    expect(ident('BilledCost')).toBe('"BilledCost"');
    expect(ident('order')).toBe('"order"');
    expect(ident('name')).toBe('"name"');
    expect(ident('a"b')).toBe('"a""b"');
  });
});

describe('question matcher', () => {
  it('splits words, camelCase included, and makes them singular', () => {
    expect(tokensOf('Top 5 BilledCost by services, categories')).toEqual([
      'top',
      '5',
      'billed',
      'cost',
      'by',
      'service',
      'category',
    ]);
  });

  it('reads "total cost by service" as effective cost per service name', () => {
    const answer = answerQuestion(catalogue(), 'total cost by service');
    expect(answer.sql).toBe(
      [
        'SELECT "ServiceName", sum("EffectiveCost") AS total_effective_cost',
        'FROM focus_billing',
        'GROUP BY "ServiceName"',
        'ORDER BY total_effective_cost DESC NULLS LAST',
      ].join('\n'),
    );
    expect(answer.explanation).toContain("'service' -> ServiceName");
  });

  it('takes a named measure over the preferred one, and several when several are named', () => {
    expect(answerQuestion(catalogue(), 'billed cost per region').sql).toContain('sum("BilledCost")');
    const both = answerQuestion(catalogue(), 'list cost and effective cost by service category').sql;
    expect(both).toContain(
      'sum("ListCost") AS total_list_cost, sum("EffectiveCost") AS total_effective_cost',
    );
    expect(both).toContain('GROUP BY "ServiceCategory"');
  });

  it('reads windows, grains, rankings and counts', () => {
    expect(answerQuestion(catalogue(), 'spend last 7 days').sql).toContain(
      `WHERE "ChargePeriodStart" >= now() - interval '7 day' AND "ChargePeriodStart" < now()`,
    );
    const monthly = answerQuestion(catalogue(), 'monthly cost this year');
    expect(monthly.sql).toContain(`date_trunc('month', "ChargePeriodStart") AS month`);
    expect(monthly.sql).toContain(`"ChargePeriodStart" >= date_trunc('year', now())`);
    expect(monthly.sql).toContain('ORDER BY month');
    expect(answerQuestion(catalogue(), 'cheapest 3 regions').sql).toMatch(
      /ORDER BY total_effective_cost ASC NULLS LAST\nLIMIT 3$/,
    );
    expect(answerQuestion(catalogue(), 'credits by service').sql).toContain(
      `WHERE "ChargeCategory" = 'Credit'`,
    );
    expect(answerQuestion(catalogue(), 'how many orders').sql).toBe(
      'SELECT count(*) AS row_count\nFROM orders',
    );
    expect(answerQuestion(catalogue(), 'top 3 orders by amount').sql).toBe(
      'SELECT *\nFROM orders\nORDER BY amount DESC NULLS LAST\nLIMIT 3',
    );
  });

  it('answers what it cannot match with a preview, saying so', () => {
    const answer = answerQuestion(catalogue(), 'zzz qqq');
    expect(answer.matched).toBe(false);
    expect(answer.sql).toContain('FROM focus_billing');
  });
});

describe('built-in suggestions', () => {
  it('joins over foreign keys, showing the referenced table’s label', () => {
    const join = builtinSuggestions(catalogue()).find((s) => s.tables.length === 2);
    expect(join?.sql).toBe(
      [
        'SELECT p."name", count(*) AS orders_rows',
        'FROM orders c',
        'JOIN customers p ON c.customer_id = p.id',
        'GROUP BY p."name"',
        'ORDER BY orders_rows DESC',
        'LIMIT 20',
      ].join('\n'),
    );
  });

  it('puts the FOCUS table’s cost reports first', () => {
    expect(
      builtinSuggestions(catalogue())
        .slice(0, 3)
        .map((s) => s.title),
    ).toEqual(['Cost by service', 'Cost by region', 'Cost by month']);
  });
});
