import { ExpressionError, type ExpressionEvaluator } from './expressions';

export interface StepContext {
  tenantId: string;
  runId: string;
  stepId: string;
  attempt: number;
  /** The node as the definition has it (config as written, before templates are rendered). */
  node: { id: string; type: string; data: { config?: Record<string, unknown> } };
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
  /** The step waits for something outside the worker (an approval); `deadlineMs` decides it when nothing comes. */
  | { kind: 'waiting'; deadlineMs?: number }
  /** workflow.call: the engine starts the child run; the step completes when the child ends. */
  | { kind: 'call'; workflowId: string; input: unknown };

/**
 * A step type's behaviour. One class per type; the engine asks it everything type-specific through these
 * hooks and never names a type itself.
 */
export abstract class StepExecutor {
  abstract execute(context: StepContext): Promise<StepOutcome>;

  /**
   * Pure (no I/O, no effect, no waiting, bounded by the expression limits): the step runs inline, in the unit of
   * work that completes its predecessor, instead of as a job of its own; a unit done again (another transition
   * came in between) runs it again.
   */
  inline(config: Record<string, unknown>): boolean {
    void config;
    return false;
  }

  /** How long the step's job waits before it runs (a delay step's duration). */
  queueDelayMs(config: Record<string, unknown>): number {
    void config;
    return 0;
  }

  /** A waiting step's deadline passed (an approval's timeout): its output, or a PermanentStepError. */
  deadlinePassed(config: Record<string, unknown>): unknown {
    void config;
    throw new PermanentStepError('wait timed out');
  }
}

/** Failures that retrying cannot fix (a refused address, a bad expression): the step fails at once. */
export class PermanentStepError extends Error {}

/** The node's `expression`, evaluated off this event loop; a bad or runaway expression fails the step at once. */
export async function expressionValue(
  evaluator: ExpressionEvaluator,
  context: StepContext,
): Promise<unknown> {
  try {
    return await evaluator.evaluate(String(context.config.expression), context.context, context.signal);
  } catch (error) {
    if (error instanceof ExpressionError) throw new PermanentStepError(error.message);
    throw error;
  }
}
