import 'reflect-metadata';
import { getMetadataStorage } from 'class-validator';
import { CONFIG_CLASSES } from '../../src/core/config/config.module';

export type Role = keyof typeof CONFIG_CLASSES;

/** A variable a process reads, with the default its config class gives it (`undefined`: none). */
export interface EnvVar {
  name: string;
  fallback: unknown;
  secret: boolean;
}

/**
 * Credentials and keys go to the Secret, the rest to the ConfigMap. Decided by name: URLs that carry a password
 * (DATABASE_URL, DATABASE_DIRECT_URL, REDIS_URL), and anything named *SECRET*, *PASSWORD*, *TOKEN* or ending in _KEY.
 */
const SECRET = /^(DATABASE_URL|DATABASE_DIRECT_URL|REDIS_URL)$|SECRET|PASSWORD|TOKEN|_KEY$|_PREVIOUS_KEYS$/;

/**
 * Every variable a role reads, straight from the config classes registered in CONFIG_CLASSES (their validated
 * properties), so a config class added later is in the next render without editing this file.
 */
export function envOf(role: Role): EnvVar[] {
  const seen = new Map<string, EnvVar>();
  for (const cls of CONFIG_CLASSES[role]) {
    const defaults = new cls() as Record<string, unknown>;
    const metadata = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
    for (const name of new Set(metadata.map((entry) => entry.propertyName))) {
      if (!seen.has(name)) seen.set(name, { name, fallback: defaults[name], secret: SECRET.test(name) });
    }
  }
  return [...seen.values()];
}

/** Every variable of any role, each once (what the ConfigMap and the Secret hold). */
export function allEnv(): EnvVar[] {
  const seen = new Map<string, EnvVar>();
  for (const role of Object.keys(CONFIG_CLASSES) as Role[])
    for (const variable of envOf(role)) seen.set(variable.name, variable);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A default as the environment spells it: lists comma-joined, unset as the empty string (which reads as unset). */
export function envText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
