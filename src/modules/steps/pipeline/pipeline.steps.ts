import { CHARGE_CATEGORIES, SERVICE_CATEGORIES } from '../../pipelines/focus/focus-columns';
import { DQ_CHECKS } from '../../pipelines/steps/pipeline-steps.service';
import type { StepDefinition } from '../step-definition';

const FROM = {
  type: 'string',
  pattern: '^[a-z][a-z0-9_-]{0,62}$',
  description: 'The id of the earlier step whose output this step reads.',
};

export const PIPELINE_STEPS: readonly StepDefinition[] = [
  {
    type: 'pipeline.extract',
    name: 'Extract billing export',
    category: 'data',
    description:
      "Copies a cloud provider's billing export, as it is, into the run's staging table: the sample export the " +
      'repository ships for the provider (or its first `sample_rows` rows), or an uploaded document (`document_id`, a CSV in the same layout). An ' +
      'export lacking a column the FOCUS mapping reads fails the step, naming the column.',
    config_schema: {
      type: 'object',
      required: ['provider'],
      additionalProperties: false,
      properties: {
        provider: { enum: ['aws', 'gcp', 'azure'], description: 'Whose export layout it is.' },
        document_id: {
          type: 'string',
          maxLength: 200,
          description: 'An uploaded document to read instead of the sample; empty for the sample.',
        },
        sample_rows: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          description:
            "Only the sample's first rows (a quick try of a template); ignored with a document_id.",
        },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        stage: { type: 'string' },
        provider: { type: 'string' },
        source: { enum: ['sample', 'document'] },
        document_id: { type: ['string', 'null'] },
        rows: { type: 'integer' },
        columns: { type: 'integer' },
      },
    },
  },
  {
    type: 'pipeline.focus',
    name: 'Normalise to FOCUS',
    category: 'data',
    description:
      "Maps the extracted export to FinOps FOCUS 1.2 columns by the provider's documented mapping (README: " +
      '"FOCUS mappings"), optionally keeping only some charge or service categories.',
    config_schema: {
      type: 'object',
      required: ['from'],
      additionalProperties: false,
      properties: {
        from: FROM,
        charge_categories: { type: 'array', items: { enum: [...CHARGE_CATEGORIES] }, uniqueItems: true },
        service_categories: { type: 'array', items: { enum: [...SERVICE_CATEGORIES] }, uniqueItems: true },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        view: { type: 'string' },
        provider: { type: 'string' },
        rows: { type: 'integer' },
        by_charge_category: { type: 'object' },
      },
    },
  },
  {
    type: 'pipeline.load',
    name: 'Load FOCUS rows',
    category: 'data',
    description:
      "Writes the FOCUS rows into a table of the tenant's schema (`focus_billing` unless `table` says), which " +
      'POST /data/query can read. Idempotent: it replaces the rows this run loaded before and those an earlier ' +
      'run loaded for the same provider, billing account and billing period, so nothing is ever duplicated.',
    config_schema: {
      type: 'object',
      required: ['from'],
      additionalProperties: false,
      properties: {
        from: FROM,
        table: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$', default: 'focus_billing' },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        schema: { type: 'string' },
        table: { type: 'string' },
        rows: { type: 'integer' },
        replaced: { type: 'integer' },
      },
    },
  },
  {
    type: 'pipeline.dq',
    name: 'Data-quality checks',
    category: 'data',
    description:
      "Checks the rows this run loaded and records each result in the tenant's `tenant_dq_results`: " +
      'mandatory FOCUS columns not null, allowed ChargeCategory/ServiceCategory values, ChargePeriodStart <= ' +
      'ChargePeriodEnd, ListCost >= 0 unless a credit or adjustment, and totals reconciling with the source. A ' +
      'failing blocking check (all are blocking unless `blocking: false`) fails the step and so the run.',
    config_schema: {
      type: 'object',
      required: ['from'],
      additionalProperties: false,
      properties: {
        from: FROM,
        checks: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['check'],
            additionalProperties: false,
            properties: { check: { enum: [...DQ_CHECKS] }, blocking: { type: 'boolean', default: true } },
          },
        },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        passed: { type: 'boolean' },
        checks: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              check: { type: 'string' },
              passed: { type: 'boolean' },
              blocking: { type: 'boolean' },
              observed: { type: 'object' },
            },
          },
        },
      },
    },
  },
];
