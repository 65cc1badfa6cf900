import type { ModuleMetadata, Type } from '@nestjs/common';
import type { StepDefinition } from './step-definition';
import type { StepExecutor } from './step-executor';

/**
 * A step type (or a family of them, like the triggers) as one folder under src/modules/steps/: its catalog
 * entries and the executor that runs them. Each folder's index exports `plugin`; the catalog finds the folders
 * itself, so adding a step type is adding a folder (no list to edit).
 */
export interface StepPlugin {
  /** Where the palette shows the family (ascending). */
  order: number;
  steps: readonly StepDefinition[];
  /** Provided by the engine's module; its constructor may inject anything the engine's module can resolve. */
  executor: Type<StepExecutor>;
  /** Modules the executor needs that the engine does not import already. */
  imports?: ModuleMetadata['imports'];
}
