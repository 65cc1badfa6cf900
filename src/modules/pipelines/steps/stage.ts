import { quoteIdent } from '../../data/sandbox-settings';

/** The platform schema a run's staging tables live in (created by the pipelines migration). */
export const STAGE_SCHEMA = 'pipeline_stage';

/** A run's staging tables and views share this prefix, so the run's end drops them all. */
export const stagePrefix = (runId: string): string => `r${runId.replace(/-/g, '')}`;

/** `pipeline_stage."r<run>_<node>"`: unique per run and step, within Postgres's 63-byte identifiers. */
export function stageName(runId: string, stepId: string): { name: string; qualified: string } {
  const name = `${stagePrefix(runId)}_${stepId.replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return { name, qualified: `${quoteIdent(STAGE_SCHEMA)}.${quoteIdent(name)}` };
}

/**
 * Postgres errors that retrying cannot fix: 22xxx (a value of the wrong shape), 42xxx (a table of that name with
 * other columns), 54xxx (over a limit). The input's fault: the step fails at once.
 */
export const isDataError = (error: unknown): boolean =>
  /^(22|42|54)/.test((error as { code?: string }).code ?? '');
