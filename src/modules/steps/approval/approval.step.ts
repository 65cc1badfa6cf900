import type { StepDefinition } from '../step-definition';

export const APPROVAL_STEP: StepDefinition = {
  type: 'approval',
  name: 'Approval',
  category: 'flow',
  description:
    'Pauses the run (step waiting) until POST /runs/{id}/resume with this step id, or until its timeout, when ' +
    'on_timeout decides. The output is the resume data.',
  config_schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeout_ms: { type: 'integer', minimum: 1000, maximum: 30 * 24 * 3600 * 1000 },
      on_timeout: { type: 'string', enum: ['approve', 'reject'] },
    },
  },
  outputs: { description: 'The `data` given to resume.' },
};
