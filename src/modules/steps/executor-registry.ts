import type { Provider } from '@nestjs/common';
import { STEP_PLUGINS } from './catalog';
import type { StepExecutor } from './step-executor';

/** Step type -> the executor instance its plug-in names. */
export class ExecutorRegistry {
  private readonly byType = new Map<string, StepExecutor>();

  constructor(executors: readonly StepExecutor[]) {
    STEP_PLUGINS.forEach((plugin, index) => {
      for (const step of plugin.steps) this.byType.set(step.type, executors[index]);
    });
  }

  for(type: string): StepExecutor {
    const executor = this.byType.get(type);
    if (!executor) throw new Error(`no executor for step type '${type}'`);
    return executor;
  }
}

/** What a module that runs steps provides: every plug-in's executor and the registry over them. */
export const STEP_PROVIDERS: Provider[] = [
  ...STEP_PLUGINS.map((plugin) => plugin.executor),
  {
    provide: ExecutorRegistry,
    useFactory: (...executors: StepExecutor[]) => new ExecutorRegistry(executors),
    inject: STEP_PLUGINS.map((plugin) => plugin.executor),
  },
];

/** The modules the plug-ins' executors need. */
export const STEP_IMPORTS = STEP_PLUGINS.flatMap((plugin) => plugin.imports ?? []);
