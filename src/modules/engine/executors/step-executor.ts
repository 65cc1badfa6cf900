import type { WorkflowNode } from '../../workflows/entities/workflow.entity';

export interface StepContext {
  tenantId: string;
  runId: string;
  stepId: string;
  attempt: number;
  node: WorkflowNode;
  /** The node's config with `{{ }}` templates rendered (expression fields left as written). */
  config: Record<string, unknown>;
  /** `{input, steps: {<node id>: {status, output}}}` */
  context: { input: unknown; steps: Record<string, { status: string; output?: unknown }> };
  input: unknown;
  /** Aborted on timeout and when the run is cancelled. */
  signal: AbortSignal;
}

export type StepOutcome =
  | { kind: 'completed'; output: unknown }
  /** The step waits for something outside the worker (an approval). */
  | { kind: 'waiting' }
  /** workflow.call: the engine starts the child run; the step completes when the child ends. */
  | { kind: 'call'; workflowId: string; input: unknown };

/** A step type's behaviour. One class per type, registered by type in ExecutorRegistry. */
export abstract class StepExecutor {
  abstract readonly types: readonly string[];
  abstract execute(context: StepContext): Promise<StepOutcome>;
}

/** Failures that retrying cannot fix (a refused address, a bad expression): the step fails at once. */
export class PermanentStepError extends Error {}
