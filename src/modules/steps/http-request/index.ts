import type { StepPlugin } from '../step-plugin';
import { HttpRequestExecutor } from './http-request.executor';
import { HTTP_REQUEST_STEP } from './http-request.step';

export const plugin: StepPlugin = { order: 20, steps: [HTTP_REQUEST_STEP], executor: HttpRequestExecutor };
