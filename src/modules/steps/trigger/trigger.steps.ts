import type { StepDefinition } from '../step-definition';

const passthrough = {
  type: 'object',
  description: 'The run input, as given to the trigger.',
};

const noConfig = { type: 'object', additionalProperties: false, properties: {} };

/** Exactly one trigger starts every workflow; it passes the run's input on as its output. */
export const TRIGGER_STEPS: StepDefinition[] = [
  {
    type: 'trigger.manual',
    name: 'Manual trigger',
    category: 'trigger',
    description: 'Started by POST /workflows/{id}/run.',
    config_schema: noConfig,
    outputs: passthrough,
  },
  {
    type: 'trigger.webhook',
    name: 'Webhook trigger',
    category: 'trigger',
    description:
      'Started by a signed POST /triggers/webhook/{workflow_id}; output is the delivery body and headers.',
    config_schema: noConfig,
    outputs: { type: 'object', properties: { body: {}, headers: { type: 'object' } } },
  },
  {
    type: 'trigger.schedule',
    name: 'Schedule trigger',
    category: 'trigger',
    description: 'Started on a cron schedule (POST /triggers/schedule); output is the schedule input.',
    config_schema: noConfig,
    outputs: passthrough,
  },
];
