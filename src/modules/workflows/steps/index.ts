import { APPROVAL_STEP } from './approval.step';
import { CONDITION_STEP } from './condition.step';
import { DELAY_STEP } from './delay.step';
import { HTTP_REQUEST_STEP } from './http-request.step';
import { SQL_QUERY_STEP } from './sql-query.step';
import type { StepDefinition } from './step-definition';
import { TRANSFORM_STEP } from './transform.step';
import { TRIGGER_STEPS } from './trigger.steps';
import { WORKFLOW_CALL_STEP } from './workflow-call.step';

/** The step catalog, in palette order. To add a step type: declare it in its own file and list it here. */
export const STEP_CATALOG: readonly StepDefinition[] = [
  ...TRIGGER_STEPS,
  HTTP_REQUEST_STEP,
  TRANSFORM_STEP,
  CONDITION_STEP,
  DELAY_STEP,
  APPROVAL_STEP,
  SQL_QUERY_STEP,
  WORKFLOW_CALL_STEP,
];

export const STEPS_BY_TYPE: ReadonlyMap<string, StepDefinition> = new Map(
  STEP_CATALOG.map((step) => [step.type, step]),
);

export const isTrigger = (type: string) => type.startsWith('trigger.');
