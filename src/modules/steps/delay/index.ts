import type { StepPlugin } from '../step-plugin';
import { DelayExecutor } from './delay.executor';
import { DELAY_STEP } from './delay.step';

export const plugin: StepPlugin = { order: 50, steps: [DELAY_STEP], executor: DelayExecutor };
