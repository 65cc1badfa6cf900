import type { StepDefinition } from '../step-definition';

export const WORKFLOW_CALL_STEP: StepDefinition = {
  type: 'workflow.call',
  name: 'Call workflow',
  category: 'flow',
  description:
    "Starts a run of another published workflow of the tenant and completes with that run's result.",
  config_schema: {
    type: 'object',
    required: ['workflow_id'],
    additionalProperties: false,
    properties: {
      workflow_id: { type: 'string', format: 'uuid' },
      input: { description: 'Input of the child run (templates allowed in strings).' },
    },
  },
  outputs: {
    type: 'object',
    properties: { run_id: { type: 'string' }, status: { type: 'string' }, context: { type: 'object' } },
  },
};
