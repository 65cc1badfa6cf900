import type { StepPlugin } from '../step-plugin';
import { TriggerExecutor } from './trigger.executor';
import { TRIGGER_STEPS } from './trigger.steps';

export const plugin: StepPlugin = { order: 10, steps: TRIGGER_STEPS, executor: TriggerExecutor };
