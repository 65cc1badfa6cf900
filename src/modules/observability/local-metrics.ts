import { Injectable } from '@nestjs/common';
import { RE2JS } from 're2js';
import { MetricsQueryInvalidException } from './observability.exceptions';
import { type Labels, MetricSnapshots, type Snapshot } from './metric-snapshots';
import type { AggregateExpr, Expr, LabelMatcher, SelectorExpr } from './promql';

/** As Prometheus: an instant selector takes each series' latest sample at most this old. */
const LOOKBACK_MS = 5 * 60_000;

interface Sample {
  metric: Labels;
  value: number;
}

/** Snapshots of every metric a query names, grouped by instance and sorted by time. */
type Loaded = Map<string, Map<string, Snapshot[]>>;

/**
 * Evaluates the fallback's PromQL subset over the snapshots every process pushed (see MetricSnapshots). Series
 * identity is the labels plus `instance`, so counters of several processes add up under `sum`. `rate` and
 * `increase` are not extrapolated: increase = the rise of the counter between the first and last push inside the
 * window (resets counted), a series absent from a push of its process counting as 0; rate = increase / window.
 */
@Injectable()
export class LocalMetrics {
  constructor(private readonly snapshots: MetricSnapshots) {}

  async instant(expr: Expr, atMs: number): Promise<Sample[]> {
    const loaded = await this.load(expr, atMs, atMs);
    return evaluate(expr, atMs, loaded);
  }

  async range(
    expr: Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
  ): Promise<Array<{ metric: Labels; values: Array<[number, number]> }>> {
    const loaded = await this.load(expr, startMs, endMs);
    const series = new Map<string, { metric: Labels; values: Array<[number, number]> }>();
    for (let t = startMs; t <= endMs; t += stepMs) {
      for (const sample of evaluate(expr, t, loaded)) {
        const key = keyOf(sample.metric);
        const entry = series.get(key) ?? { metric: sample.metric, values: [] };
        entry.values.push([t, sample.value]);
        series.set(key, entry);
      }
    }
    return [...series.values()];
  }

  private async load(expr: Expr, fromMs: number, toMs: number): Promise<Loaded> {
    const loaded: Loaded = new Map();
    for (const selector of selectorsOf(expr)) {
      const name = nameOf(selector);
      const back = selector.rangeMs ?? LOOKBACK_MS;
      const snapshots = await this.snapshots.read(name, fromMs - back, toMs);
      const byInstance = loaded.get(name) ?? new Map<string, Snapshot[]>();
      for (const snapshot of snapshots) {
        const list = byInstance.get(snapshot.instance) ?? [];
        if (!list.some((s) => s.t === snapshot.t)) list.push(snapshot);
        byInstance.set(snapshot.instance, list);
      }
      for (const list of byInstance.values()) list.sort((a, b) => a.t - b.t);
      loaded.set(name, byInstance);
    }
    return loaded;
  }
}

/** Adds `tenant_id="<tenant>"` to every selector of the expression: a tenant sees only its own series. */
export function confineExpr(expr: Expr, tenantId: string): Expr {
  const matcher: LabelMatcher = { label: 'tenant_id', op: '=', value: tenantId };
  switch (expr.kind) {
    case 'selector':
      return { ...expr, matchers: [...expr.matchers, matcher] };
    case 'function':
      return { ...expr, selector: { ...expr.selector, matchers: [...expr.selector.matchers, matcher] } };
    case 'aggregate':
      return { ...expr, expr: confineExpr(expr.expr, tenantId) };
  }
}

function selectorsOf(expr: Expr): SelectorExpr[] {
  if (expr.kind === 'selector') return [expr];
  if (expr.kind === 'function') return [expr.selector];
  return selectorsOf(expr.expr);
}

function nameOf(selector: SelectorExpr): string {
  return (selector.matchers.find((m) => m.label === '__name__' && m.op === '=') as LabelMatcher).value;
}

function evaluate(expr: Expr, t: number, loaded: Loaded): Sample[] {
  switch (expr.kind) {
    case 'selector':
      return instantSelector(expr, t, loaded);
    case 'function':
      return counterIncrease(expr.selector, t, loaded).map(({ metric, value }) => ({
        metric,
        value: expr.name === 'rate' ? value / (expr.selector.rangeMs / 1000) : value,
      }));
    case 'aggregate':
      return aggregate(expr, evaluate(expr.expr, t, loaded));
  }
}

function instantSelector(selector: SelectorExpr, t: number, loaded: Loaded): Sample[] {
  const test = matcherTest(selector.matchers);
  const out: Sample[] = [];
  for (const list of loaded.get(nameOf(selector))?.values() ?? []) {
    const latest = latestAtOrBefore(list, t);
    if (!latest || latest.t <= t - LOOKBACK_MS) continue;
    for (const [labels, value] of latest.series) {
      const metric = { __name__: nameOf(selector), ...labels };
      if (test(metric)) out.push({ metric, value });
    }
  }
  return out;
}

function counterIncrease(selector: SelectorExpr & { rangeMs?: number }, t: number, loaded: Loaded): Sample[] {
  const test = matcherTest(selector.matchers);
  const from = t - (selector.rangeMs as number);
  const out: Sample[] = [];
  for (const list of loaded.get(nameOf(selector))?.values() ?? []) {
    const window = list.filter((s) => s.t > from && s.t <= t);
    if (window.length < 2) continue;
    const series = new Map<string, { labels: Labels; values: Map<number, number> }>();
    window.forEach((snapshot, index) => {
      for (const [labels, value] of snapshot.series) {
        const metric = { __name__: nameOf(selector), ...labels };
        if (!test(metric)) continue;
        const key = keyOf(labels);
        const entry = series.get(key) ?? { labels, values: new Map<number, number>() };
        entry.values.set(index, value);
        series.set(key, entry);
      }
    });
    for (const { labels, values } of series.values()) {
      let increase = 0;
      let previous = values.get(0) ?? 0;
      for (let i = 1; i < window.length; i++) {
        const value = values.get(i) ?? 0;
        increase += value >= previous ? value - previous : value;
        previous = value;
      }
      out.push({ metric: labels, value: increase });
    }
  }
  return out;
}

function aggregate(expr: AggregateExpr, samples: Sample[]): Sample[] {
  const groups = new Map<string, { metric: Labels; values: number[] }>();
  for (const { metric, value } of samples) {
    const grouped: Labels = {};
    if (expr.grouping.mode === 'by') {
      for (const label of expr.grouping.labels)
        if (metric[label] !== undefined) grouped[label] = metric[label];
    } else {
      for (const [label, v] of Object.entries(metric))
        if (label !== '__name__' && !expr.grouping.labels.includes(label)) grouped[label] = v;
    }
    const key = keyOf(grouped);
    const group = groups.get(key) ?? { metric: grouped, values: [] };
    group.values.push(value);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ metric, values }) => ({ metric, value: combine(expr.op, values) }));
}

function combine(op: AggregateExpr['op'], values: number[]): number {
  switch (op) {
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'count':
      return values.length;
  }
}

function latestAtOrBefore(list: Snapshot[], t: number): Snapshot | undefined {
  let found: Snapshot | undefined;
  for (const snapshot of list) {
    if (snapshot.t > t) break;
    found = snapshot;
  }
  return found;
}

/** Label matchers as a predicate; regexes are RE2 (linear time) and anchored at both ends, as in Prometheus. */
function matcherTest(matchers: LabelMatcher[]): (labels: Labels) => boolean {
  const tests = matchers.map(({ label, op, value }) => {
    if (op === '=' || op === '!=')
      return (labels: Labels) => ((labels[label] ?? '') === value) === (op === '=');
    let re: RE2JS;
    try {
      re = RE2JS.compile(value);
    } catch {
      throw new MetricsQueryInvalidException(`Not a valid regular expression for ${label}: ${value}`, {
        label,
      });
    }
    return (labels: Labels) => re.matches(labels[label] ?? '') === (op === '=~');
  });
  return (labels) => tests.every((test) => test(labels));
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}
