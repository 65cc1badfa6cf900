import { scanSync } from 'libpg-query';
import { quoteIdent } from '../data/sandbox-settings';
import { type CatalogueColumn, wordsOf } from './catalogue';

/**
 * An identifier as a person would write it: bare when Postgres reads it back unchanged (lower case, not a
 * keyword, as Postgres's own scanner says), quoted otherwise (`"BilledCost"`, `"order"`). The scanner must be
 * loaded (`loadModule()` from libpg-query) before the first call.
 */
export function ident(name: string): string {
  if (/^[a-z_][a-z0-9_]{0,62}$/.test(name) && scanSync(name).tokens[0]?.keywordKind === 0) return name;
  return quoteIdent(name);
}

export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A result column's name from words: `total`, `EffectiveCost` -> total_effective_cost (`total`, `total` once). */
export const alias = (...parts: string[]) =>
  ident(
    parts
      .flatMap(wordsOf)
      .filter((word, i, words) => word !== words[i - 1])
      .join('_')
      .slice(0, 63) || 'value',
  );

/** Clauses one per line, empty ones left out. */
export const lines = (...clauses: Array<string | false | undefined>) =>
  clauses.filter((clause): clause is string => Boolean(clause)).join('\n');

export const col = (column: CatalogueColumn, prefix?: string) =>
  prefix ? `${prefix}.${ident(column.name)}` : ident(column.name);
