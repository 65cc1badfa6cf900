/** What a JSON body may hold before any DTO transformation or validation looks at it. */
export const BODY_BUDGET = { depth: 32, keysPerObject: 1_000, arrayItems: 100_000 } as const;

/**
 * The first way `value` exceeds the budget (or holds an unpaired surrogate, which no JSON encoder round-trips), or
 * undefined. One iterative pass, so neither a 10,000-deep nesting nor 150,000 keys reach the recursive
 * validators. (A NUL, which Postgres cannot store, is the database's to refuse: the filter answers 400.)
 */
export function bodyBudgetProblem(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '$', depth: 0 }];
  while (stack.length > 0) {
    const { value: item, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof item === 'string') {
      if (!item.isWellFormed()) return `${path} holds a string with an unpaired UTF-16 surrogate`;
      continue;
    }
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= BODY_BUDGET.depth) return `body nests deeper than ${BODY_BUDGET.depth} levels (at ${path})`;
    if (Array.isArray(item)) {
      if (item.length > BODY_BUDGET.arrayItems)
        return `${path} has ${item.length} items; at most ${BODY_BUDGET.arrayItems} are accepted`;
      item.forEach((child, index) =>
        stack.push({ value: child, path: `${path}[${index}]`, depth: depth + 1 }),
      );
      continue;
    }
    const keys = Object.keys(item);
    if (keys.length > BODY_BUDGET.keysPerObject)
      return `${path} has ${keys.length} keys; at most ${BODY_BUDGET.keysPerObject} are accepted`;
    for (const key of keys) {
      if (!key.isWellFormed()) return `${path} has a key with an unpaired UTF-16 surrogate`;
      stack.push({ value: (item as Record<string, unknown>)[key], path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}
