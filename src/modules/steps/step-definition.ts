/** JSON Schema, as served to the editor for a step's config form. */
export type JsonSchema = Record<string, unknown>;

/**
 * One step type of the catalog: what the editor's palette shows and what validation checks. Declared in the
 * step type's folder (src/modules/steps/<type>/), beside the executor that runs it.
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
  /**
   * A branching step: its outgoing edges each carry one of `handles` as `sourceHandle`, and only the edges
   * whose handle `taken` picks from the step's output run (the others are skipped).
   */
  branch?: { handles: readonly string[]; taken(output: unknown): string };
}

export const TEMPLATE_NOTE =
  'Strings may contain {{ jsonata }} templates, evaluated against the run context.';
