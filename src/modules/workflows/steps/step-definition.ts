/** JSON Schema, as served to the editor for a step's config form. */
export type JsonSchema = Record<string, unknown>;

/**
 * One step type of the catalog: what the editor's palette shows and what validation checks. Each step type
 * is declared in its own file beside this one; the engine's executor for it lives there too.
 */
export interface StepDefinition {
  type: string;
  name: string;
  category: 'trigger' | 'integration' | 'logic' | 'flow' | 'data';
  description: string;
  config_schema: JsonSchema;
  /** What later steps find at `steps.<node id>.output`. */
  outputs: JsonSchema;
  /** Config fields holding a JSONata expression (validated to compile). */
  expressionFields?: string[];
  /** Set while a step type is declared but cannot run yet: publishing a workflow that uses it is refused. */
  unavailable?: string;
}

export const TEMPLATE_NOTE =
  'Strings may contain {{ jsonata }} templates, evaluated against the run context.';
