import type { StepPlugin } from '../step-plugin';
import { ConditionExecutor } from './condition.executor';
import { CONDITION_STEP } from './condition.step';

export const plugin: StepPlugin = { order: 40, steps: [CONDITION_STEP], executor: ConditionExecutor };
