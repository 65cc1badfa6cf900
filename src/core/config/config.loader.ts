import { plainToInstance, Transform } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { StartupError } from '../startup-error';

export type Env = Record<string, string | undefined>;

/** Thrown at start-up; its message names every bad variable so the operator can fix them in one go. */
export class ConfigError extends StartupError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads one concern's config class from the environment. Property names are the variable names, so a
 * validation message names exactly what the operator has to change. Empty strings count as unset.
 */
export function loadConfig<T extends object>(cls: new () => T, env: Env): T {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const instance = plainToInstance(cls, defined, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0)
    throw new ConfigError(errors.map((error) => describe(error, defined[error.property])));
  return instance;
}

/** Quotes the value as the operator wrote it, not as converted (`"eighty"`, not `null`). */
function describe(error: ValidationError, raw: string | undefined): string {
  const value = raw === undefined ? 'unset' : JSON.stringify(raw);
  return `${error.property} (${value}): ${Object.values(error.constraints ?? {}).join('; ')}`;
}

/** `true`/`false` (also 1/0, yes/no) as a boolean; anything else is left for @IsBoolean to reject. */
export const EnvBoolean = () =>
  Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
    const raw = obj[key];
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    return raw;
  });

/** A comma-separated list as a string array (blank items dropped). */
export const EnvList = () =>
  Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
    const raw = obj[key];
    if (Array.isArray(raw)) return raw as unknown[];
    return String(raw)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  });
