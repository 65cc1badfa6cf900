import { ApiProperty, ApiSchema, type SchemaObject } from '@nestjs/swagger';
import Ajv from 'ajv';
import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import type { WorkflowEdge, WorkflowNode } from '../entities/workflow.entity';
import { MAX_NODES } from '../workflow-validator';

const NODE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'type', 'position', 'data'],
  additionalProperties: true,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 100 },
    type: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      description: 'A step type from GET /catalog/steps',
    },
    position: {
      type: 'object',
      required: ['x', 'y'],
      properties: { x: { type: 'number' }, y: { type: 'number' } },
    },
    data: {
      type: 'object',
      required: ['config'],
      additionalProperties: true,
      properties: {
        label: { type: 'string', maxLength: 200 },
        config: {
          type: 'object',
          additionalProperties: true,
          description: "The step's settings, valid against its catalog `config_schema`",
        },
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
};

const EDGE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'source', 'target'],
  additionalProperties: true,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200 },
    source: { type: 'string', minLength: 1 },
    target: { type: 'string', minLength: 1 },
    sourceHandle: {
      type: 'string',
      nullable: true,
      description: '`"true"`/`"false"` on edges leaving a condition',
    },
  },
};

const NODES = { type: 'array', items: NODE_SCHEMA } as const;
const EDGES = { type: 'array', items: EDGE_SCHEMA } as const;

/**
 * The shape of a saved definition (React Flow's graph). Editor-only properties (width, selected, ...) are kept
 * as they are; what Conflux reads is required here. Graph rules (one trigger, no cycles, configs) are checked
 * by validate/publish, so a work-in-progress draft can always be saved. Written in the subset of JSON Schema
 * that both Ajv and OpenAPI 3.0 read (`nullable`, no type lists), so the same schema validates and documents.
 */
export const DEFINITION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['nodes', 'edges'],
  properties: { nodes: NODES, edges: EDGES },
};

/** The definition's OpenAPI component; validation uses DEFINITION_SCHEMA itself. */
@ApiSchema({ name: 'WorkflowDefinition', description: 'A React Flow graph' })
export class WorkflowDefinitionSchema {
  @ApiProperty(NODES)
  nodes: WorkflowNode[];

  @ApiProperty(EDGES)
  edges: WorkflowEdge[];
}

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
