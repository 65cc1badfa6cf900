import type { StepDefinition } from '../step-definition';

export const DELAY_STEP: StepDefinition = {
  type: 'delay',
  name: 'Delay',
  category: 'flow',
  description: 'Waits, as a delayed job: no worker is held while it waits.',
  config_schema: {
    type: 'object',
    required: ['duration_ms'],
    additionalProperties: false,
    properties: { duration_ms: { type: 'integer', minimum: 0, maximum: 30 * 24 * 3600 * 1000 } },
  },
  outputs: { type: 'object', properties: { waited_ms: { type: 'integer' } } },
};
