import type { StepPlugin } from '../step-plugin';
import { ApprovalExecutor } from './approval.executor';
import { APPROVAL_STEP } from './approval.step';

export const plugin: StepPlugin = { order: 60, steps: [APPROVAL_STEP], executor: ApprovalExecutor };
