import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { StepDefinition } from './step-definition';
import type { StepPlugin } from './step-plugin';

/**
 * Every step plug-in: the folders beside this file whose index exports `plugin` (read once, at load, from src/
 * under ts and jest, from dist/ in production). Refuses to load when a folder has no plugin or two folders
 * declare the same step type, so a mistake stops the process at boot rather than a run later.
 */
export function discoverPlugins(dir: string = __dirname): StepPlugin[] {
  const plugins: Array<{ folder: string; plugin: StepPlugin }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(path.join(dir, entry.name)) as { plugin?: StepPlugin };
    if (!loaded.plugin) throw new Error(`step folder ${entry.name}: its index exports no \`plugin\``);
    plugins.push({ folder: entry.name, plugin: loaded.plugin });
  }
  const owner = new Map<string, string>();
  for (const { folder, plugin } of plugins) {
    for (const step of plugin.steps) {
      const other = owner.get(step.type);
      if (other) throw new Error(`step type '${step.type}' is declared by both ${other} and ${folder}`);
      owner.set(step.type, folder);
    }
  }
  return plugins.map(({ plugin }) => plugin).sort((a, b) => a.order - b.order);
}

export const STEP_PLUGINS: readonly StepPlugin[] = discoverPlugins();

/** The step catalog, in palette order. */
export const STEP_CATALOG: readonly StepDefinition[] = STEP_PLUGINS.flatMap((plugin) => plugin.steps);

export const STEPS_BY_TYPE: ReadonlyMap<string, StepDefinition> = new Map(
  STEP_CATALOG.map((step) => [step.type, step]),
);

export const isTrigger = (type: string) => STEPS_BY_TYPE.get(type)?.category === 'trigger';
