/**
 * One list of what counts as a secret by its name, for everything Conflux keeps or shows besides the logs (which
 * pino redacts by path, see core/logging): a webhook run's input headers, run events, audit details, error bodies.
 * A name is secret when it is, or ends in, a credential word: `authorization`, `cookie`, `x-api-token`,
 * `client_secret`, `db_password`, `x-signature`, ...
 */
const SECRET_NAME =
  /(?:^|[-_.])(?:authorization|cookie|set-cookie|password|passwd|passphrase|secret|token|api[-_]?key|apikey|signature|credentials?|private[-_]?key)$/i;

export const REDACTED = '[redacted]';

/** Whether a header, field or key of this name holds a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Nesting deeper than this is left as it is (the body budget keeps user input far shallower). */
const MAX_DEPTH = 32;

/**
 * `value` with the value of every secret-named key, at any depth, replaced by `[redacted]`. Objects and arrays are
 * copied only along a path where something was replaced; the rest is shared with `value`, which is never changed.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= [...value])[i] = redacted;
    });
    return (copy ?? value) as T;
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const redacted = isSecretName(key)
      ? item === undefined
        ? item
        : REDACTED
      : redactSecrets(item, depth + 1);
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted;
  }
  return (copy ?? value) as T;
}
