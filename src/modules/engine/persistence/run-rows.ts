import { RunEntity } from './entities/run.entity';
import { StepRunEntity } from './entities/step-run.entity';

const RUN_DATES = ['started_at', 'completed_at', 'created_at', 'updated_at'];
const STEP_DATES = ['not_before', 'started_at', 'finished_at', 'updated_at'];

/**
 * A run's `context` ({input, steps: {<id>: {status, output?}}}) assembled from its step rows, where each output
 * is stored once: the engine never rewrites a context, however many steps a run has.
 */
const CONTEXT_OF_R = `jsonb_build_object('input', r.input, 'steps', COALESCE((
    SELECT jsonb_object_agg(s.step_id, CASE WHEN s.status = 'completed'
             THEN jsonb_build_object('status', s.status, 'output', s.output)
             ELSE jsonb_build_object('status', s.status) END)
      FROM step_runs s WHERE s.run_id = r.id), '{}'::jsonb))`;

/** `runs r` as JSON with its assembled context. */
export const RUN_JSON = `to_jsonb(r) || jsonb_build_object('context', ${CONTEXT_OF_R})`;

/** A row read as `to_jsonb(...)` has its timestamps as strings: make them Dates again. */
function withDates<T extends object>(row: T, keys: string[]): T {
  for (const key of keys) {
    const value = (row as Record<string, unknown>)[key];
    if (typeof value === 'string') (row as Record<string, unknown>)[key] = new Date(value);
  }
  return row;
}

export const toRun = (row: RunEntity) => withDates(Object.assign(new RunEntity(), row), RUN_DATES);
export const toStep = (row: StepRunEntity) => withDates(Object.assign(new StepRunEntity(), row), STEP_DATES);
