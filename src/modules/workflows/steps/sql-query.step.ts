import type { StepDefinition } from './step-definition';

export const SQL_QUERY_STEP: StepDefinition = {
  type: 'sql.query',
  name: 'SQL query',
  category: 'data',
  description: "Runs one read-only SELECT against the tenant's own dataset, as its restricted role.",
  config_schema: {
    type: 'object',
    required: ['sql'],
    additionalProperties: false,
    properties: {
      sql: { type: 'string', minLength: 1, maxLength: 20000 },
      params: { type: 'array' },
    },
  },
  outputs: {
    type: 'object',
    properties: { columns: { type: 'array' }, rows: { type: 'array' }, row_count: { type: 'integer' } },
  },
  unavailable:
    'the tenant data sandbox (POST /data/query) is not available yet; this step cannot run until it is',
};
