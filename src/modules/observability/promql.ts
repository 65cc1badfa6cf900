import { parser } from '@prometheus-io/lezer-promql';
import { MetricsQueryInvalidException, MetricsQueryUnsupportedException } from './observability.exceptions';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** What the local fallback answers; named in its 400 for anything else. */
export const FALLBACK_SUPPORTS =
  'selectors with label matchers (=, !=, =~, !~), sum/avg/min/max/count with by (...) or without (...), ' +
  'and rate()/increase() over a range selector of a counter';

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}
export interface SelectorExpr {
  kind: 'selector';
  matchers: LabelMatcher[];
  /** Range selectors (`x[1m]`) only: the window in ms. */
  rangeMs?: number;
}
export interface FunctionExpr {
  kind: 'function';
  name: 'rate' | 'increase';
  selector: SelectorExpr & { rangeMs: number };
}
export interface AggregateExpr {
  kind: 'aggregate';
  op: AggregateOp;
  grouping: { mode: 'by' | 'without'; labels: string[] };
  expr: Expr;
}
export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count';
export type Expr = SelectorExpr | FunctionExpr | AggregateExpr;

const AGGREGATES = new Set<string>(['sum', 'avg', 'min', 'max', 'count']);
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** The syntax tree of a query; a query with a syntax error is refused with its position. */
function parseTree(query: string): SyntaxNode {
  const tree = parser.parse(query);
  let error: number | undefined;
  tree.iterate({
    enter: (node) => {
      if (error === undefined && node.type.isError) error = node.from;
      return error === undefined;
    },
  });
  if (error !== undefined || query.trim() === '')
    throw new MetricsQueryInvalidException(`Not valid PromQL near position ${error ?? 0}`, {
      position: error ?? 0,
    });
  return tree.topNode;
}

/**
 * Confines a query to one tenant's series for Prometheus: every vector selector the parser finds gets a
 * `tenant_id="<tenant>"` matcher inserted at the position the parser gives (matchers are ANDed, so a caller's own
 * `tenant_id` matcher can only narrow it further). The result is parsed again before it leaves.
 */
export function confineToTenant(query: string, tenantId: string): string {
  const top = parseTree(query);
  const matcher = `tenant_id=${JSON.stringify(tenantId)}`;
  const inserts: Array<{ at: number; text: string }> = [];
  const visit = (node: SyntaxNode): void => {
    if (node.name === 'VectorSelector') {
      const matchers = node.getChild('LabelMatchers');
      if (matchers) {
        const empty = !matchers.firstChild;
        inserts.push({ at: matchers.from + 1, text: empty ? matcher : `${matcher},` });
      } else {
        const name = node.getChild('Identifier') as SyntaxNode;
        inserts.push({ at: name.to, text: `{${matcher}}` });
      }
    }
    for (let child = node.firstChild; child; child = child.nextSibling) visit(child);
  };
  visit(top);
  let confined = query;
  for (const { at, text } of inserts.sort((a, b) => b.at - a.at))
    confined = confined.slice(0, at) + text + confined.slice(at);
  parseTree(confined);
  return confined;
}

/** Parses the subset the local fallback evaluates; anything else is a 400 naming the subset. */
export function parseFallbackQuery(query: string): Expr {
  const top = parseTree(query);
  const root = top.firstChild as SyntaxNode;
  return toExpr(root, query);
}

function toExpr(node: SyntaxNode, query: string): Expr {
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  switch (node.name) {
    case 'ParenExpr':
      return toExpr(innerOf(node), query);
    case 'VectorSelector':
      return selectorOf(node, query);
    case 'MatrixSelector':
      return unsupported(`a range selector (${text(node)}) outside rate() or increase()`);
    case 'FunctionCall': {
      const name = text(node.getChild('FunctionIdentifier') as SyntaxNode);
      if (name !== 'rate' && name !== 'increase') return unsupported(`the function ${name}()`);
      const body = node.getChild('FunctionCallBody') as SyntaxNode;
      const args = childrenOf(body);
      const arg = args.length === 1 ? args[0] : undefined;
      if (arg?.name !== 'MatrixSelector')
        return unsupported(`${name}() of anything but one range selector (${text(body)})`);
      const selector = selectorOf(arg.getChild('VectorSelector') as SyntaxNode, query);
      const duration = arg.getChild('DurationExpr') ?? arg.lastChild;
      if (!duration || arg.getChild('SubqueryExpr')) return unsupported('subqueries');
      return { kind: 'function', name, selector: { ...selector, rangeMs: durationMs(text(duration)) } };
    }
    case 'AggregateExpr': {
      const op = text(node.getChild('AggregateOp') as SyntaxNode);
      if (!AGGREGATES.has(op)) return unsupported(`the aggregation ${op}`);
      const modifier = node.getChild('AggregateModifier');
      const mode = modifier?.getChild('Without') ? 'without' : 'by';
      const labels = (modifier?.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map(text);
      const args = childrenOf(node.getChild('FunctionCallBody'));
      if (args.length !== 1) return unsupported(`${op} with a parameter`);
      return {
        kind: 'aggregate',
        op: op as AggregateOp,
        grouping: { mode, labels },
        expr: toExpr(args[0], query),
      };
    }
    default:
      return unsupported(`${describe(node.name)} (${text(node)})`);
  }
}

function selectorOf(node: SyntaxNode, query: string): SelectorExpr {
  const matchers: LabelMatcher[] = [];
  const name = node.getChild('Identifier');
  if (name) matchers.push({ label: '__name__', op: '=', value: query.slice(name.from, name.to) });
  for (const matcher of childrenOf(node.getChild('LabelMatchers'))) {
    const label = matcher.getChild('LabelName') ?? matcher.getChild('QuotedLabelName');
    const op = matcher.getChild('MatchOp');
    const value = matcher.getChild('StringLiteral');
    if (!op || !value) {
      // `{"metric_name"}`: a quoted metric name on its own.
      const only = value ?? matcher.getChild('QuotedLabelName');
      if (only)
        matchers.push({ label: '__name__', op: '=', value: unquote(query.slice(only.from, only.to)) });
      continue;
    }
    const labelText = query.slice((label as SyntaxNode).from, (label as SyntaxNode).to);
    matchers.push({
      label: labelText.startsWith('"') || labelText.startsWith("'") ? unquote(labelText) : labelText,
      op: query.slice(op.from, op.to) as MatchOp,
      value: unquote(query.slice(value.from, value.to)),
    });
  }
  if (!matchers.some((m) => m.label === '__name__' && m.op === '='))
    return unsupported('a selector without a metric name');
  for (const modifier of ['OffsetExpr', 'AtModifier'])
    if (node.parent?.name === modifier) unsupported('offset and @ modifiers');
  return { kind: 'selector', matchers };
}

function innerOf(node: SyntaxNode): SyntaxNode {
  const inner = childrenOf(node);
  return inner[0];
}

/** Children that are expressions (not punctuation). */
function childrenOf(node: SyntaxNode | null): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node?.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function describe(name: string): string {
  const map: Record<string, string> = {
    BinaryExpr: 'binary operators',
    NumberDurationLiteral: 'number literals',
    StringLiteral: 'string literals',
    SubqueryExpr: 'subqueries',
    OffsetExpr: 'offset modifiers',
    StepInvariantExpr: '@ modifiers',
    UnaryExpr: 'unary operators',
  };
  return map[name] ?? name;
}

function unsupported(what: string): never {
  throw new MetricsQueryUnsupportedException(what, FALLBACK_SUPPORTS);
}

/** `1m`, `90s`, `1h30m`, `500ms`. */
export function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new MetricsQueryInvalidException(`Not a duration: ${text}`, { duration: text });
  return parts.reduce((total, [, n, unit]) => total + Number(n) * DURATION_UNITS[unit], 0);
}

function unquote(literal: string): string {
  const quote = literal[0];
  const inner = literal.slice(1, -1);
  if (quote === '`') return inner;
  if (quote === '"') return JSON.parse(literal) as string;
  return JSON.parse(`"${inner.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
}
