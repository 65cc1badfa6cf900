import type { StepDefinition } from '../step-definition';

export const SQL_QUERY_STEP: StepDefinition = {
  type: 'sql.query',
  name: 'SQL query',
  category: 'data',
  description:
    "Runs one read-only SELECT over the tenant's own tables, as the tenant's restricted role (the sandbox of " +
    'POST /data/query). `sql` is used exactly as written: it may not contain {{ }} templates. Pass values as ' +
    '`params` ($1, $2, ...), whose strings may hold {{ jsonata }} templates evaluated against the run context; ' +
    'they reach the query as bound parameters only. At most `limit` rows (default 1000) and 1 MiB are kept.',
  config_schema: {
    type: 'object',
    required: ['sql'],
    additionalProperties: false,
    properties: {
      sql: {
        type: 'string',
        minLength: 1,
        maxLength: 100000,
        // "No `{{`": every `{` is followed by something else (RE2 syntax, which the validator compiles with).
        pattern: '^([^{]|\\{[^{])*\\{?$',
        description:
          'One SELECT (WITH, VALUES, EXPLAIN of one); no {{ }} templates: use $1, $2, ... and params.',
      },
      params: {
        type: 'array',
        maxItems: 100,
        description: 'Values of $1, $2, ...; {{ }} templates allowed ("{{ input.id }}" keeps its type).',
      },
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: 10000,
        description: 'Rows to keep at most (default 1000).',
      },
    },
  },
  outputs: {
    type: 'object',
    properties: {
      columns: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } },
      },
      rows: { type: 'array', items: { type: 'array' } },
      row_count: { type: 'integer' },
      truncated: { type: 'boolean' },
    },
  },
};
