import {
  type Catalogue,
  type CatalogueColumn,
  type CatalogueTable,
  type ForeignKey,
  type FocusColumns,
  tableOf,
} from './catalogue';
import { alias, col, ident, lines, literal } from './sql-text';

export interface Suggestion {
  sql: string;
  title: string;
  explanation: string;
  /** The tenant tables the SQL reads. */
  tables: string[];
}

/** Words that make a numeric column the likelier thing to add up (twice: amounts; once: rates and values). */
const MONEY = new Set(['cost', 'amount', 'total', 'revenue', 'spend', 'sales']);
const MONEYISH = new Set(['price', 'charge', 'value', 'fee', 'quantity']);
/** Words of a column that labels its rows for people (what a join shows of the other table). */
const LABEL = new Set(['name', 'title', 'label', 'category', 'type', 'status', 'region']);
const START = new Set(['start', 'date', 'created', 'day', 'timestamp', 'time', 'at', 'opened', 'ordered']);
const END = new Set(['end', 'finished', 'updated', 'deleted', 'expires', 'closed', 'modified']);
/** Columns a profile looks at, at most (one query, one row). */
const PROFILE_COLUMNS = 12;
const TOP_N = 10;
const GROUPS = 20;

const score = (column: CatalogueColumn, liked: Set<string>, disliked = new Set<string>()) =>
  column.words.filter((w) => liked.has(w)).length - 2 * column.words.filter((w) => disliked.has(w)).length;

/** Stable: equal scores keep the table's column order. */
const ranked = (columns: CatalogueColumn[], by: (c: CatalogueColumn) => number) =>
  columns
    .map((column, index) => ({ column, index, score: by(column) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.column);

export const measuresOf = (table: CatalogueTable) =>
  ranked(
    table.columns.filter((c) => c.kind === 'measure'),
    (c) => 2 * score(c, MONEY) + score(c, MONEYISH),
  );
export const dimensionsOf = (table: CatalogueTable) =>
  ranked(
    table.columns.filter((c) => c.kind === 'dimension'),
    (c) => score(c, LABEL),
  );
export const timesOf = (table: CatalogueTable) =>
  ranked(
    table.columns.filter((c) => c.kind === 'time'),
    (c) => score(c, START, END),
  );

/** What a join shows of the referenced table: its label column, else its key. */
function labelOf(table: CatalogueTable, fallback: string): CatalogueColumn {
  return dimensionsOf(table)[0] ?? table.columns.find((c) => c.name === fallback) ?? table.columns[0];
}

/** Suggestions for one table: FOCUS ones first when it is a FOCUS table, then the generic ones. */
export function suggestionsFor(catalogue: Catalogue, table: CatalogueTable): Suggestion[] {
  return [
    ...(table.focus ? focusSuggestions(table, table.focus) : []),
    ...genericSuggestions(table),
    ...catalogue.foreignKeys
      .filter((fk) => fk.table === table.name || fk.refTable === table.name)
      .flatMap((fk) => joinSuggestion(catalogue, fk)),
  ];
}

/** Every table's suggestions, FOCUS tables first, then tables with more rows. */
export function builtinSuggestions(catalogue: Catalogue, only?: CatalogueTable): Suggestion[] {
  const tables = only
    ? [only]
    : [...catalogue.tables].sort(
        (a, b) =>
          Number(Boolean(b.focus)) - Number(Boolean(a.focus)) || (b.rowEstimate ?? 0) - (a.rowEstimate ?? 0),
      );
  const seen = new Set<string>();
  return tables
    .flatMap((table) => suggestionsFor(catalogue, table))
    .filter((s) => !seen.has(s.sql) && Boolean(seen.add(s.sql)));
}

function genericSuggestions(table: CatalogueTable): Suggestion[] {
  const t = ident(table.name);
  const out: Suggestion[] = [];
  const tables = [table.name];
  // FOCUS: charges are dated by their charge period (the billing period is the invoice's month).
  const time = table.focus?.ChargePeriodStart ?? timesOf(table)[0];
  const measures = measuresOf(table);
  const dimensions = dimensionsOf(table);

  out.push({
    title: time ? `Latest rows of ${table.name}` : `Preview ${table.name}`,
    sql: lines(`SELECT *`, `FROM ${t}`, time && `ORDER BY ${col(time)} DESC NULLS LAST`, `LIMIT 100`),
    explanation: time
      ? `The 100 most recent rows of ${table.name} by ${time.name}.`
      : `The first 100 rows of ${table.name}.`,
    tables,
  });
  out.push({
    title: `Count rows of ${table.name}`,
    sql: lines(`SELECT count(*) AS row_count`, `FROM ${t}`),
    explanation: `How many rows ${table.name} holds.`,
    tables,
  });
  for (const measure of measures.slice(0, 2)) {
    out.push({
      title: `Top ${TOP_N} ${table.name} by ${measure.name}`,
      sql: lines(`SELECT *`, `FROM ${t}`, `ORDER BY ${col(measure)} DESC NULLS LAST`, `LIMIT ${TOP_N}`),
      explanation: `The ${TOP_N} rows of ${table.name} with the largest ${measure.name}.`,
      tables,
    });
  }
  const [measure] = measures;
  for (const dimension of dimensions.slice(0, 3)) {
    if (measure) {
      const total = alias('total', measure.name);
      out.push({
        title: `${measure.name} by ${dimension.name} in ${table.name}`,
        sql: lines(
          `SELECT ${col(dimension)}, sum(${col(measure)}) AS ${total}, avg(${col(measure)}) AS ${alias('avg', measure.name)}, count(*) AS row_count`,
          `FROM ${t}`,
          `GROUP BY ${col(dimension)}`,
          `ORDER BY ${total} DESC NULLS LAST`,
          `LIMIT ${GROUPS}`,
        ),
        explanation: `Sum and average of ${measure.name} per ${dimension.name} in ${table.name}, largest total first.`,
        tables,
      });
    } else {
      out.push({
        title: `Rows by ${dimension.name} in ${table.name}`,
        sql: lines(
          `SELECT ${col(dimension)}, count(*) AS row_count`,
          `FROM ${t}`,
          `GROUP BY ${col(dimension)}`,
          `ORDER BY row_count DESC`,
          `LIMIT ${GROUPS}`,
        ),
        explanation: `How many rows of ${table.name} have each ${dimension.name}, most common first.`,
        tables,
      });
    }
  }
  if (time) {
    const grain = time.words.some((w) => w === 'month' || w === 'period') ? 'month' : 'day';
    const value = measure ? `, sum(${col(measure)}) AS ${alias('total', measure.name)}` : '';
    out.push({
      title: `${measure ? measure.name : 'Rows'} per ${grain} in ${table.name}`,
      sql: lines(
        `SELECT date_trunc('${grain}', ${col(time)}) AS ${grain}, count(*) AS row_count${value}`,
        `FROM ${t}`,
        `GROUP BY 1`,
        `ORDER BY 1`,
      ),
      explanation: `A ${grain === 'day' ? 'daily' : 'monthly'} series of ${table.name} by ${time.name}: rows${measure ? ` and total ${measure.name}` : ''} per ${grain}.`,
      tables,
    });
  }
  const profiled = table.columns
    .filter((c) => c.kind !== 'other' && c.kind !== 'text')
    .slice(0, PROFILE_COLUMNS);
  if (profiled.length > 0) {
    const parts = profiled.flatMap((c) => [
      `count(${col(c)}) AS ${alias(c.name, 'non_null')}`,
      `count(DISTINCT ${col(c)}) AS ${alias(c.name, 'distinct')}`,
    ]);
    out.push({
      title: `Null and distinct profile of ${table.name}`,
      sql: lines(`SELECT count(*) AS row_count,`, `  ${parts.join(',\n  ')}`, `FROM ${t}`),
      explanation: `For ${profiled.map((c) => c.name).join(', ')}: how many rows have a value and how many distinct values there are.`,
      tables,
    });
  }
  return out;
}

function joinSuggestion(catalogue: Catalogue, fk: ForeignKey): Suggestion[] {
  const child = tableOf(catalogue, fk.table);
  const parent = tableOf(catalogue, fk.refTable);
  if (!child || !parent) return [];
  const label = labelOf(parent, fk.refColumns[0]);
  const on = fk.columns.map((c, i) => `c.${ident(c)} = p.${ident(fk.refColumns[i])}`).join(' AND ');
  const rows = alias(child.name, 'rows');
  return [
    {
      title: `${child.name} per ${parent.name}.${label.name}`,
      sql: lines(
        `SELECT ${col(label, 'p')}, count(*) AS ${rows}`,
        `FROM ${ident(child.name)} c`,
        `JOIN ${ident(parent.name)} p ON ${on}`,
        `GROUP BY ${col(label, 'p')}`,
        `ORDER BY ${rows} DESC`,
        `LIMIT ${GROUPS}`,
      ),
      explanation: `Joins ${child.name} to ${parent.name} on ${fk.columns.join(', ')} (its foreign key) and counts ${child.name} rows per ${parent.name}.${label.name}.`,
      tables: [...new Set([child.name, parent.name])],
    },
  ];
}

/** Cost reports over a FOCUS table: effective cost (amortized) when it is there, else billed cost. */
function focusSuggestions(table: CatalogueTable, focus: FocusColumns): Suggestion[] {
  const t = ident(table.name);
  const tables = [table.name];
  const cost = (focus.EffectiveCost ?? focus.BilledCost) as CatalogueColumn;
  const billed = focus.BilledCost as CatalogueColumn;
  const total = alias('total', cost.name);
  const out: Suggestion[] = [];
  const by = (dimension: CatalogueColumn | undefined, what: string) => {
    if (!dimension) return;
    out.push({
      title: `Cost by ${what}`,
      sql: lines(
        `SELECT ${col(dimension)}, sum(${col(cost)}) AS ${total}`,
        `FROM ${t}`,
        `GROUP BY ${col(dimension)}`,
        `ORDER BY ${total} DESC NULLS LAST`,
      ),
      explanation: `Sums ${cost.name} per ${dimension.name} in ${table.name}, largest first.`,
      tables,
    });
  };
  by(focus.ServiceName, 'service');
  by(focus.RegionName ?? focus.RegionId, 'region');
  const month = focus.ChargePeriodStart as CatalogueColumn;
  out.push({
    title: 'Cost by month',
    sql: lines(
      `SELECT date_trunc('month', ${col(month)}) AS month, sum(${col(billed)}) AS ${alias('total', billed.name)}${
        cost === billed ? '' : `, sum(${col(cost)}) AS ${total}`
      }`,
      `FROM ${t}`,
      `GROUP BY 1`,
      `ORDER BY 1`,
    ),
    explanation: `Monthly ${billed.name}${cost === billed ? '' : ` and ${cost.name}`} of ${table.name}, by the month of ${month.name}.`,
    tables,
  });
  const category = focus.ChargeCategory as CatalogueColumn;
  const service = focus.ServiceName as CatalogueColumn;
  const credits = alias('credits', billed.name);
  out.push({
    title: 'Credits by service',
    sql: lines(
      `SELECT ${col(service)}, sum(${col(billed)}) AS ${credits}, count(*) AS credit_lines`,
      `FROM ${t}`,
      `WHERE ${col(category)} = ${literal('Credit')}`,
      `GROUP BY ${col(service)}`,
      `ORDER BY ${credits}`,
    ),
    explanation: `Credits (${category.name} = 'Credit') per ${service.name}: their ${billed.name}, most negative first.`,
    tables,
  });
  by(focus.ServiceCategory, 'service category');
  by(focus.SubAccountName ?? focus.SubAccountId, 'sub account');
  by(focus.ProviderName, 'provider');
  by(category, 'charge category');
  if (focus.ResourceId) {
    out.push({
      title: `Top ${TOP_N} resources by cost`,
      sql: lines(
        `SELECT ${col(focus.ResourceId)}, ${col(service)}, sum(${col(cost)}) AS ${total}`,
        `FROM ${t}`,
        `WHERE ${col(focus.ResourceId)} IS NOT NULL`,
        `GROUP BY ${col(focus.ResourceId)}, ${col(service)}`,
        `ORDER BY ${total} DESC NULLS LAST`,
        `LIMIT ${TOP_N}`,
      ),
      explanation: `The ${TOP_N} ${focus.ResourceId.name}s with the largest ${cost.name} in ${table.name}, with their ${service.name}.`,
      tables,
    });
  }
  if (focus.ListCost && focus.EffectiveCost) {
    const savings = alias('savings');
    out.push({
      title: 'Savings against list price by service',
      sql: lines(
        `SELECT ${col(service)}, sum(${col(focus.ListCost)} - ${col(focus.EffectiveCost)}) AS ${savings}`,
        `FROM ${t}`,
        `GROUP BY ${col(service)}`,
        `ORDER BY ${savings} DESC NULLS LAST`,
      ),
      explanation: `${focus.ListCost.name} minus ${focus.EffectiveCost.name} per ${service.name}: what discounts and commitments saved.`,
      tables,
    });
  }
  return out;
}
