import type { StepDefinition } from '../step-definition';

export const TRANSFORM_STEP: StepDefinition = {
  type: 'transform',
  name: 'Transform',
  category: 'data',
  description:
    'Evaluates a JSONata expression against the run context ({input, steps}); the result is the output.',
  config_schema: {
    type: 'object',
    required: ['expression'],
    additionalProperties: false,
    properties: { expression: { type: 'string', minLength: 1, maxLength: 20000 } },
  },
  outputs: { description: 'Whatever the expression yields.' },
  expressionFields: ['expression'],
};
