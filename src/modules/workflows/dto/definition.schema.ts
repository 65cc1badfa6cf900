import Ajv from 'ajv';
import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { MAX_NODES } from '../workflow-validator';

/**
 * The shape of a saved definition (React Flow's graph). Editor-only properties (width, selected, ...) are kept
 * as they are; what Conflux reads is required here. Graph rules (one trigger, no cycles, configs) are checked
 * by validate/publish, so a work-in-progress draft can always be saved.
 */
export const DEFINITION_SCHEMA = {
  type: 'object',
  required: ['nodes', 'edges'],
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'position', 'data'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 100 },
          type: { type: 'string', minLength: 1, maxLength: 100 },
          position: {
            type: 'object',
            required: ['x', 'y'],
            properties: { x: { type: 'number' }, y: { type: 'number' } },
          },
          data: {
            type: 'object',
            required: ['config'],
            properties: {
              label: { type: 'string', maxLength: 200 },
              config: { type: 'object' },
              retry: {
                type: 'object',
                required: ['max_attempts', 'backoff_ms'],
                additionalProperties: false,
                properties: {
                  max_attempts: { type: 'integer', minimum: 1, maximum: 20 },
                  backoff_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
                },
              },
              timeout_ms: { type: 'integer', minimum: 1, maximum: 86400000 },
            },
          },
        },
      },
    },
    edges: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'source', 'target'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 200 },
          source: { type: 'string', minLength: 1 },
          target: { type: 'string', minLength: 1 },
          sourceHandle: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

const validateShape = new Ajv({ allErrors: true, strict: false }).compile(DEFINITION_SCHEMA);

/** 422 when the definition is not a React Flow graph of the SPEC's shape. */
export function IsWorkflowDefinition(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isWorkflowDefinition',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => validateShape(value),
        defaultMessage: (args: ValidationArguments) => {
          validateShape(args.value);
          const problems = (validateShape.errors ?? []).map(
            (e) => `${args.property}${e.instancePath} ${e.message ?? ''}`,
          );
          return problems.join('; ') || `${args.property} must be {nodes: [...], edges: [...]}`;
        },
      },
    });
}

/** 400 when the graph is larger than Conflux runs. */
export function MaxNodes(max = MAX_NODES, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'maxNodes',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) =>
          !Array.isArray((value as { nodes?: unknown })?.nodes) ||
          (value as { nodes: unknown[] }).nodes.length <= max,
        defaultMessage: (args: ValidationArguments) => `${args.property} has more than ${max} nodes`,
      },
    });
}
