import type { StepPlugin } from '../step-plugin';
import { WorkflowCallExecutor } from './workflow-call.executor';
import { WORKFLOW_CALL_STEP } from './workflow-call.step';

export const plugin: StepPlugin = { order: 80, steps: [WORKFLOW_CALL_STEP], executor: WorkflowCallExecutor };
