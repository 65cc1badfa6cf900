import type { StepPlugin } from '../step-plugin';
import { TransformExecutor } from './transform.executor';
import { TRANSFORM_STEP } from './transform.step';

export const plugin: StepPlugin = { order: 30, steps: [TRANSFORM_STEP], executor: TransformExecutor };
