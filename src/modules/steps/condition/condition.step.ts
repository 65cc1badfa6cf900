import type { StepDefinition } from '../step-definition';

export const CONDITION_STEP: StepDefinition = {
  type: 'condition',
  name: 'Condition',
  category: 'logic',
  description:
    'Evaluates a JSONata boolean. Outgoing edges carry sourceHandle "true" or "false"; the branch not taken is skipped.',
  config_schema: {
    type: 'object',
    required: ['expression'],
    additionalProperties: false,
    properties: { expression: { type: 'string', minLength: 1, maxLength: 20000 } },
  },
  outputs: { type: 'object', properties: { result: { type: 'boolean' } } },
  expressionFields: ['expression'],
  branch: {
    handles: ['true', 'false'],
    taken: (output) => String((output as { result?: unknown } | undefined)?.result === true),
  },
};
