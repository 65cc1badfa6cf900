import jsonata from 'jsonata';

type Node = jsonata.ExprNode & Record<string, unknown>;

const OPERATORS = new Set(['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or', 'in']);

/** Built-ins whose cost grows no faster than their arguments (none takes a function, a pattern or a width). */
const FUNCTIONS = new Set([
  'string',
  'number',
  'boolean',
  'not',
  'exists',
  'count',
  'sum',
  'max',
  'min',
  'average',
  'length',
  'uppercase',
  'lowercase',
  'trim',
  'substring',
  'keys',
  'abs',
  'floor',
  'ceil',
  'round',
  'type',
  'append',
]);

/** Keys that give a node filters, grouping, focus or index bindings: none of those is let through. */
const STAGED = ['stages', 'predicate', 'group', 'focus', 'index', 'tuple', 'ancestor'];

/**
 * References to the input (paths, `$` and function calls) an expression may make: each yields at most the input's size, so a
 * bounded expression's work and result stay within a few times what sending the input to an evaluation
 * process would cost (`[$, $, $, ...]` a thousand times over a large input would not).
 */
const MAX_REFERENCES = 4;

/**
 * The compiled expression when its cost is bounded by the size of its input, so it can be evaluated on the
 * caller's event loop: field paths (names only), literals, arithmetic, comparison, `&`, `and`/`or`/`in`, `?:`,
 * array and object constructors with literal keys, `$` and calls of the built-ins above, with at most
 * MAX_REFERENCES references to the input. Anything that can loop or multiply its input (functions and lambdas,
 * `:=`, ranges, filters and predicates, blocks, wildcards, descendants, sorting, `~>`, regexes, transforms,
 * grouping, other built-ins) gives undefined: it goes to the evaluation processes. So does an expression that
 * does not compile (they report the error) or nests too deep to check.
 */
export function boundedExpression(expression: string): jsonata.Expression | undefined {
  try {
    const compiled = jsonata(expression);
    return bounded(compiled.ast() as Node, { left: MAX_REFERENCES }) ? compiled : undefined;
  } catch {
    return undefined; // does not compile, or nests deeper than the stack: the processes answer for it
  }
}

function bounded(node: Node | undefined, references: { left: number }): boolean {
  if (!node || STAGED.some((key) => key in node)) return false;
  const one = (n: unknown) => bounded(n as Node | undefined, references);
  const all = (nodes: unknown) => Array.isArray(nodes) && nodes.every(one);
  const reference = () => (references.left -= 1) >= 0;
  switch (node.type as string) {
    case 'number':
    case 'string':
    case 'value':
      return true;
    case 'variable':
      return node.value === '' && reference(); // `$`, the input; named variables are bindings or functions
    case 'path':
      return Array.isArray(node.steps) && node.steps.every((step) => plainName(step as Node)) && reference();
    case 'binary':
      return OPERATORS.has(node.value as string) && one(node.lhs) && one(node.rhs);
    case 'condition':
      return one(node.condition) && one(node.then) && (node.else === undefined || one(node.else));
    case 'function': // a reference too: called with fewer arguments, a built-in takes the input
      return (
        node.procedure?.type === 'variable' &&
        FUNCTIONS.has(node.procedure.value as string) &&
        all(node.arguments) &&
        reference()
      );
    case 'unary':
      if (node.value === '-') return one(node.expression);
      if (node.value === '[') return all(node.expressions);
      if (node.value === '{')
        return (
          Array.isArray(node.lhs) &&
          (node.lhs as [Node, Node][]).every(([key, value]) => key.type === 'string' && one(value))
        );
      return false;
    default:
      return false;
  }
}

function plainName(step: Node): boolean {
  return step.type === 'name' && !STAGED.some((key) => key in step);
}
