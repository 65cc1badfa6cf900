/** What policies speak of: the actions and subjects services check, and the condition operators they may use. */
export const POLICY_ACTIONS = ['manage', 'read', 'create', 'update', 'delete', 'run', 'publish'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export const POLICY_SUBJECTS = ['all', 'Workflow', 'Run', 'Document', 'Dataset'] as const;
export type PolicySubject = (typeof POLICY_SUBJECTS)[number];

/**
 * Condition operators (MongoDB query style, as CASL evaluates them). No `$regex`: an owner-written pattern would
 * run in the API's JavaScript regex engine on every check, and one catastrophic pattern stalls the process.
 */
export const POLICY_OPERATORS = [
  '$eq',
  '$ne',
  '$lt',
  '$lte',
  '$gt',
  '$gte',
  '$in',
  '$nin',
  '$all',
  '$size',
  '$elemMatch',
  '$exists',
] as const;
const LOGICAL = ['$and', '$or', '$nor'];

const FIELD = /^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)*$/;
const MAX_DEPTH = 6;

export interface PolicyRule {
  action: PolicyAction | PolicyAction[];
  subject: PolicySubject | PolicySubject[];
  /** The fields the rule grants (or, inverted, withholds); none: every field. */
  fields?: string[];
  /** The records it applies to (MongoDB query over the record's fields); none: every record. */
  conditions?: Record<string, unknown>;
  /** A `cannot` rule: it takes away what the role (or an earlier rule) allows. */
  inverted?: boolean;
  /** Said in the 403 when this rule denies. */
  reason?: string;
}

const RULE_KEYS = new Set(['action', 'subject', 'fields', 'conditions', 'inverted', 'reason']);

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Every problem of a policy's rules, each naming the rule and what is wrong (empty: valid). */
export function ruleProblems(rules: unknown[]): string[] {
  const problems: string[] = [];
  rules.forEach((raw, index) => {
    const at = `rules[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const rule = raw as Record<string, unknown>;
    for (const key of Object.keys(rule))
      if (!RULE_KEYS.has(key)) problems.push(`${at}.${key} is not a rule field`);
    checkNames(problems, `${at}.action`, rule.action, POLICY_ACTIONS, 'action');
    checkNames(problems, `${at}.subject`, rule.subject, POLICY_SUBJECTS, 'subject');
    if (rule.fields !== undefined) {
      if (!Array.isArray(rule.fields) || rule.fields.length === 0)
        problems.push(`${at}.fields must be a non-empty array`);
      else
        for (const field of rule.fields)
          if (typeof field !== 'string' || !FIELD.test(field))
            problems.push(`${at}.fields: '${String(field)}' is not a field name`);
    }
    if (rule.conditions !== undefined) {
      if (typeof rule.conditions !== 'object' || rule.conditions === null || Array.isArray(rule.conditions))
        problems.push(`${at}.conditions must be an object`);
      else checkQuery(problems, `${at}.conditions`, rule.conditions as Record<string, unknown>, 0);
    }
    if (rule.inverted !== undefined && typeof rule.inverted !== 'boolean')
      problems.push(`${at}.inverted must be a boolean`);
    if (rule.reason !== undefined && (typeof rule.reason !== 'string' || rule.reason.length > 500))
      problems.push(`${at}.reason must be a string of at most 500 characters`);
  });
  return problems;
}

function checkNames(
  problems: string[],
  at: string,
  value: unknown,
  allowed: readonly string[],
  what: string,
): void {
  const names = list(value);
  if (value === undefined || names.length === 0) {
    problems.push(`${at} is required`);
    return;
  }
  for (const name of names)
    if (typeof name !== 'string' || !allowed.includes(name))
      problems.push(`${at}: unknown ${what} '${String(name)}' (one of ${allowed.join(', ')})`);
}

/** Field names at the top, operators below them; logical operators hold lists of queries. */
function checkQuery(problems: string[], at: string, query: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) {
    problems.push(`${at} nests deeper than ${MAX_DEPTH}`);
    return;
  }
  for (const [key, value] of Object.entries(query)) {
    if (LOGICAL.includes(key)) {
      if (!Array.isArray(value) || value.length === 0)
        problems.push(`${at}.${key} must be a non-empty array`);
      else value.forEach((item: unknown, i) => checkNested(problems, `${at}.${key}[${i}]`, item, depth));
    } else if (key.startsWith('$')) {
      problems.push(
        `${at}: unknown operator '${key}' (one of ${[...POLICY_OPERATORS, ...LOGICAL].join(', ')})`,
      );
    } else if (!FIELD.test(key)) {
      problems.push(`${at}: '${key}' is not a field name`);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      checkOperators(problems, `${at}.${key}`, value as Record<string, unknown>, depth);
    }
  }
}

function checkOperators(problems: string[], at: string, ops: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(ops);
  // A plain object without operators is an equality match on an object value.
  if (!keys.some((key) => key.startsWith('$'))) return;
  for (const [op, operand] of Object.entries(ops)) {
    if (!(POLICY_OPERATORS as readonly string[]).includes(op)) {
      problems.push(`${at}: unknown operator '${op}' (one of ${POLICY_OPERATORS.join(', ')})`);
    } else if (['$in', '$nin', '$all'].includes(op) && !Array.isArray(operand)) {
      problems.push(`${at}.${op} must be an array`);
    } else if (op === '$size' && (!Number.isInteger(operand) || (operand as number) < 0)) {
      problems.push(`${at}.$size must be a non-negative integer`);
    } else if (op === '$exists' && typeof operand !== 'boolean') {
      problems.push(`${at}.$exists must be a boolean`);
    } else if (op === '$elemMatch') {
      const element = operand as Record<string, unknown>;
      // Over scalars (`{$elemMatch: {$gte: 3}}`) it holds operators, over objects a query.
      if (
        typeof operand === 'object' &&
        operand !== null &&
        Object.keys(element).some((k) => k.startsWith('$'))
      )
        checkOperators(problems, `${at}.$elemMatch`, element, depth + 1);
      else checkNested(problems, `${at}.$elemMatch`, operand, depth);
    }
  }
}

function checkNested(problems: string[], at: string, value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    problems.push(`${at} must be an object`);
  else checkQuery(problems, at, value as Record<string, unknown>, depth + 1);
}
