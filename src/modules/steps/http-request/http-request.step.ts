import { type StepDefinition, TEMPLATE_NOTE } from '../step-definition';

export const HTTP_REQUEST_STEP: StepDefinition = {
  type: 'http.request',
  name: 'HTTP request',
  category: 'integration',
  description:
    'Calls an HTTP endpoint. Private, loopback, link-local and metadata addresses are refused unless allow-listed; ' +
    `sends Idempotency-Key: <run>:<step>. ${TEMPLATE_NOTE}`,
  config_schema: {
    type: 'object',
    required: ['method', 'url'],
    additionalProperties: false,
    properties: {
      method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] },
      url: { type: 'string', minLength: 1, maxLength: 2048 },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: { description: 'JSON body (or a string)' },
      timeout_ms: { type: 'integer', minimum: 1, maximum: 60000 },
    },
  },
  outputs: {
    type: 'object',
    properties: { status: { type: 'integer' }, headers: { type: 'object' }, body: {} },
  },
};
