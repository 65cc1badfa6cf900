import { dimensionsOf, measuresOf, timesOf, type Suggestion } from './builtin-suggester';
import { type Catalogue, type CatalogueColumn, type CatalogueTable, normalized, wordsOf } from './catalogue';
import { alias, col, ident, lines, literal } from './sql-text';

/**
 * Words that mean the same to someone asking about data: a token matches a column named by any word of its
 * group (`spend` finds `BilledCost`, `daily` finds `usage_date`), less strongly than the word itself.
 */
const SYNONYMS: string[][] = [
  [
    'cost',
    'spend',
    'spending',
    'spent',
    'amount',
    'price',
    'charge',
    'expense',
    'fee',
    'money',
    'paid',
    'billed',
  ],
  ['revenue', 'sale', 'income', 'turnover', 'amount'],
  ['quantity', 'usage', 'unit', 'consumed', 'volume', 'qty'],
  ['day', 'date', 'daily', 'time', 'when', 'timestamp', 'at', 'start', 'period'],
  ['month', 'monthly', 'period', 'date'],
  ['service', 'product', 'offering'],
  ['region', 'location', 'zone', 'geo', 'country'],
  ['account', 'subscription', 'project', 'tenant'],
  ['provider', 'vendor', 'cloud', 'publisher'],
  ['customer', 'client', 'buyer', 'user'],
  ['category', 'type', 'kind', 'class', 'group'],
  ['duration', 'elapsed', 'latency', 'took', 'ms'],
  ['status', 'state', 'outcome', 'result'],
];

const STOP = new Set([
  'a',
  'an',
  'the',
  'of',
  'for',
  'in',
  'on',
  'to',
  'and',
  'or',
  'with',
  'what',
  'which',
  'is',
  'are',
  'was',
  'were',
  'me',
  'show',
  'list',
  'give',
  'get',
  'find',
  'all',
  'my',
  'our',
  'we',
  'i',
  'do',
  'does',
  'did',
  'from',
  'that',
  'this',
  'there',
  'it',
  'its',
  'be',
  'please',
  'how',
  'much',
  'each',
  'every',
  'per',
  'by',
  'grouped',
  'group',
  'broken',
  'down',
  'split',
  'across',
  'over',
  'than',
  'top',
  'first',
  'bottom',
]);

type Aggregate = 'sum' | 'avg' | 'count' | 'max' | 'min';
const AGGREGATE_NAMES = { sum: 'total', avg: 'avg', max: 'max', min: 'min', count: 'count' } as const;
const AGGREGATE_VERBS = {
  sum: 'Sums',
  avg: 'Averages',
  max: 'Takes the largest',
  min: 'Takes the smallest',
  count: 'Counts',
} as const;
/** Ranking words that are about money: they mean the cost measure when the question names none. */
const COSTLY = ['expensive', 'costliest', 'priciest', 'cheapest'];
const AGGREGATES: Record<string, Aggregate> = {
  total: 'sum',
  sum: 'sum',
  overall: 'sum',
  average: 'avg',
  avg: 'avg',
  mean: 'avg',
  count: 'count',
  many: 'count',
  number: 'count',
  maximum: 'max',
  max: 'max',
  minimum: 'min',
  min: 'min',
};
/** Ranking words: which way to order, and what they imply when no aggregate is named. */
const DESCENDING = new Set([
  'top',
  'highest',
  'largest',
  'biggest',
  'most',
  'expensive',
  'costliest',
  'greatest',
]);
const ASCENDING = new Set(['bottom', 'lowest', 'smallest', 'least', 'cheapest', 'fewest']);
const NUMBERS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twenty: 20,
};
type Grain = 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
const ADVERBS = new Set(['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'annual']);
const GRAINS: Record<string, Grain> = {
  hourly: 'hour',
  hour: 'hour',
  daily: 'day',
  day: 'day',
  weekly: 'week',
  week: 'week',
  monthly: 'month',
  month: 'month',
  quarterly: 'quarter',
  quarter: 'quarter',
  yearly: 'year',
  annual: 'year',
  year: 'year',
};
/** FOCUS ChargeCategory values a question may name ("credits last month"). */
const CHARGE_CATEGORIES: Record<string, string> = {
  credit: 'Credit',
  usage: 'Usage',
  purchase: 'Purchase',
  tax: 'Tax',
  adjustment: 'Adjustment',
};

const singular = (word: string) =>
  word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)
    ? word.replace(/(ie)?s$/, (m) => (m === 'ies' ? 'y' : ''))
    : word;

/** Words of a text, camelCase split, lower-cased and singular: `BilledCost by services` -> billed cost by service. */
export function tokensOf(text: string): string[] {
  return wordsOf(text).map(singular);
}

/** How well one token names a column: its own word 3, inside a run-together name 2, a synonym 1. */
function tokenScore(token: string, column: CatalogueColumn): number {
  const words = column.words.map(singular);
  if (words.includes(token) || normalized(column.name) === token) return 3;
  if (token.length >= 4 && words.some((w) => w.length > token.length && w.includes(token))) return 2;
  const group = SYNONYMS.filter((g) => g.includes(token)).flat();
  return group.some((w) => words.includes(w)) ? 1 : 0;
}

/** A column's words besides the matched ones make it a weaker match (`ServiceName` over `ServiceCategory`). */
const extra = (column: CatalogueColumn) => column.words.filter((w) => w !== 'name').length * 0.01;

interface Match {
  token: string;
  column: CatalogueColumn;
  score: number;
}

function bestColumn(token: string, columns: CatalogueColumn[]): Match | undefined {
  let best: Match | undefined;
  for (const column of columns) {
    const score = tokenScore(token, column);
    if (score === 0) continue;
    const adjusted = score - extra(column);
    if (!best || adjusted > best.score) best = { token, column, score: adjusted };
  }
  return best;
}

/** The column whose name holds both words, fewest other words first; none when no column or a tie. */
function pairColumn(a: string, b: string | undefined, columns: CatalogueColumn[]): Match | undefined {
  if (!b || a === b) return undefined;
  const both = columns
    .filter((c) => c.kind !== 'other')
    .filter((c) => {
      const words = c.words.map(singular);
      return words.includes(a) && words.includes(b);
    })
    .sort((x, y) => extra(x) - extra(y));
  if (both.length === 0 || (both.length > 1 && extra(both[0]) === extra(both[1]))) return undefined;
  return { token: `${a} ${b}`, column: both[0], score: 6 };
}

interface Window {
  sql: (column: string) => string;
  text: string;
}

/** `last month`, `this year`, `past 7 days`, `yesterday`, `today`: a half-open range in UTC. */
function windowOf(tokens: string[]): { window?: Window; used: Set<number> } {
  const used = new Set<number>();
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i];
    if (token === 'today' || token === 'yesterday') {
      used.add(i);
      const start =
        token === 'today' ? `date_trunc('day', now())` : `date_trunc('day', now()) - interval '1 day'`;
      const end =
        token === 'today' ? `date_trunc('day', now()) + interval '1 day'` : `date_trunc('day', now())`;
      return { window: { sql: (c) => `${c} >= ${start} AND ${c} < ${end}`, text: token }, used };
    }
    if (!['last', 'this', 'past', 'previous', 'current'].includes(token)) continue;
    let j = i + 1;
    const count = Number(tokens[j]) || NUMBERS[tokens[j]];
    if (count) j += 1;
    const grain = GRAINS[tokens[j]];
    if (!grain || grain === 'hour') continue;
    for (let k = i; k <= j; k += 1) used.add(k);
    const unit = `interval '${count ?? 1} ${grain}'`;
    const text = [token, ...(count ? [String(count)] : []), `${grain}${count > 1 ? 's' : ''}`].join(' ');
    if (token === 'this' || token === 'current') {
      return {
        window: {
          sql: (c) =>
            `${c} >= date_trunc('${grain}', now()) AND ${c} < date_trunc('${grain}', now()) + interval '1 ${grain}'`,
          text,
        },
        used,
      };
    }
    if (count) {
      // "last 7 days": a rolling range ending now.
      return { window: { sql: (c) => `${c} >= now() - ${unit} AND ${c} < now()`, text }, used };
    }
    return {
      window: {
        sql: (c) =>
          `${c} >= date_trunc('${grain}', now()) - ${unit} AND ${c} < date_trunc('${grain}', now())`,
        text,
      },
      used,
    };
  }
  return { used };
}

/** The SQL a built-in answer to a question is, and why: which columns the words matched. */
export interface BuiltinAnswer extends Suggestion {
  /** False when nothing in the question matched a table or column (the answer is then a preview). */
  matched: boolean;
}

/**
 * Answers a question from the catalogue alone: picks the table whose name and columns the question's words
 * (and their synonyms) match best, then reads the rest of the question as an aggregate (total, average,
 * count, top/bottom N), groups (`by X`, a time grain), a time window and, over FOCUS, a charge category.
 */
export function answerQuestion(catalogue: Catalogue, question: string): BuiltinAnswer {
  const tokens = tokensOf(question);
  const { window, used } = windowOf(tokens);

  let aggregate: Aggregate | undefined;
  let direction: 'DESC' | 'ASC' | undefined;
  let limit: number | undefined;
  let grain: Grain | undefined;
  tokens.forEach((token, i) => {
    if (used.has(i)) return;
    if (token in AGGREGATES) aggregate ??= AGGREGATES[token];
    if (DESCENDING.has(token)) direction ??= 'DESC';
    if (ASCENDING.has(token)) direction ??= 'ASC';
    if (['top', 'first', 'bottom'].includes(token) || DESCENDING.has(token) || ASCENDING.has(token)) {
      const n = Number(tokens[i + 1]) || NUMBERS[tokens[i + 1]];
      if (n) limit ??= n;
    }
    if (GRAINS[token] && (ADVERBS.has(token) || ['by', 'per', 'each'].includes(tokens[i - 1] ?? ''))) {
      grain ??= GRAINS[token];
      used.add(i);
    }
  });
  const content = tokens.filter(
    (t, i) =>
      !used.has(i) &&
      // "list cost" is FOCUS's ListCost, not "list the costs".
      !(STOP.has(t) && !(t === 'list' && ['cost', 'price'].includes(tokens[i + 1]))) &&
      !(t in AGGREGATES) &&
      !/^\d+$/.test(t),
  );
  const table = bestTable(catalogue, content);
  if (!table) return preview(catalogue, question);
  const tableWords = new Set(wordsOf(table.name).map(singular));
  if (!grain && (question.toLowerCase().includes('over time') || tokens.includes('trend')))
    grain = table.focus ? 'month' : 'day';

  const preferred = table.focus?.EffectiveCost ? [table.focus.EffectiveCost] : [];
  const measures = [...new Set([...preferred, ...measuresOf(table)])];
  const others = table.columns.filter((c) => c.kind !== 'measure' && c.kind !== 'other');
  /** Per token, the measures it names best: one (`billed` -> BilledCost) or several alike (`cost`). */
  const named: Array<{ token: string; columns: CatalogueColumn[] }> = [];
  const groups: Match[] = [];
  let category: string | undefined;
  const addGroup = (match: Match) => {
    if (match.column.kind !== 'time' && !groups.some((g) => g.column === match.column)) groups.push(match);
  };
  for (let k = 0; k < content.length; k += 1) {
    const token = content[k];
    // Words that named the table ("sales orders") name no column of it.
    if (tableWords.has(token)) continue;
    // Two words naming one column together ("service category", "list cost") are that column.
    const pair = pairColumn(token, content[k + 1], table.columns);
    if (pair && !tableWords.has(content[k + 1])) {
      k += 1;
      if (pair.column.kind === 'measure') named.push({ token: pair.token, columns: [pair.column] });
      else addGroup(pair);
      continue;
    }
    if (table.focus && CHARGE_CATEGORIES[token]) {
      category = CHARGE_CATEGORIES[token];
      continue;
    }
    const scores = measures.map((c) => tokenScore(token, c));
    const top = Math.max(0, ...scores);
    const other = bestColumn(token, others);
    if (top > 0 && (!other || top >= Math.ceil(other.score))) {
      named.push({ token, columns: measures.filter((_, i) => scores[i] === top) });
    } else if (other) {
      addGroup(other);
    }
  }
  if (COSTLY.some((w) => tokens.includes(w)) && named.length === 0 && measures[0])
    named.push({ token: tokens.find((t) => COSTLY.includes(t)) as string, columns: [measures[0]] });
  // Measures a word names alone; else the first (the preferred) of the best alike.
  const exact = named.filter((n) => n.columns.length === 1);
  const picked = (exact.length > 0 ? exact : named.slice(0, 1)).map((n) => ({
    token: n.token,
    column: n.columns[0],
  }));
  const chosenMeasures = [...new Map(picked.map((m) => [m.column, m])).values()];

  const time = table.focus?.ChargePeriodStart ?? timesOf(table)[0];
  const where: string[] = [];
  const notes: string[] = [];
  if (window && time) {
    where.push(window.sql(col(time)));
    notes.push(`rows of ${window.text} by ${time.name}`);
  }
  if (category && table.focus?.ChargeCategory) {
    where.push(`${col(table.focus.ChargeCategory)} = ${literal(category)}`);
    notes.push(`${table.focus.ChargeCategory.name} = '${category}'`);
  }
  const t = ident(table.name);
  const whereClause = where.length > 0 && `WHERE ${where.join(' AND ')}`;
  const matchedText = [...chosenMeasures, ...groups]
    .map((m) => `'${m.token}' -> ${m.column.name}`)
    .join(', ');
  const why = [
    notes.length > 0 ? `; ${notes.join(', ')}` : '',
    matchedText ? ` (matched ${matchedText})` : '',
  ].join('');
  const answer = (sql: string, title: string, explanation: string): BuiltinAnswer => ({
    sql,
    title,
    explanation: `${explanation}${why}.`,
    tables: [table.name],
    matched: true,
  });

  const bucket = grain && time ? `date_trunc('${grain}', ${col(time)})` : undefined;
  const groupColumns = groups.map((g) => g.column);
  const grouped = groupColumns.length > 0 || bucket !== undefined;
  const [first] = chosenMeasures;

  if (aggregate === undefined && !grouped) {
    if (first && direction) {
      const n = limit ?? 10;
      const way = direction === 'DESC' ? 'largest' : 'smallest';
      return answer(
        lines(
          `SELECT *`,
          `FROM ${t}`,
          whereClause,
          `ORDER BY ${col(first.column)} ${direction} NULLS LAST`,
          `LIMIT ${n}`,
        ),
        `${direction === 'DESC' ? 'Top' : 'Bottom'} ${n} ${table.name} by ${first.column.name}`,
        `The ${n} rows of ${table.name} with the ${way} ${first.column.name}`,
      );
    }
    return answer(
      lines(
        `SELECT *`,
        `FROM ${t}`,
        whereClause,
        time && `ORDER BY ${col(time)} DESC NULLS LAST`,
        `LIMIT ${limit ?? 100}`,
      ),
      `Rows of ${table.name}`,
      `Rows of ${table.name}${time ? `, latest ${time.name} first` : ''}`,
    );
  }

  const fn: Aggregate = aggregate === 'count' || (!first && !aggregate) ? 'count' : (aggregate ?? 'sum');
  const targets = fn === 'count' ? [] : first ? chosenMeasures.map((m) => m.column) : measures.slice(0, 1);
  const values =
    targets.length === 0
      ? [{ sql: 'count(*)', name: alias('row_count') }]
      : targets.map((c) => ({ sql: `${fn}(${col(c)})`, name: alias(AGGREGATE_NAMES[fn], c.name) }));
  const what =
    targets.length === 0
      ? 'Counts rows'
      : `${AGGREGATE_VERBS[fn]} ${targets.map((c) => c.name).join(' and ')}`;
  const groupBy = [...(bucket ? [bucket] : []), ...groupColumns.map((c) => col(c))];
  const select = [
    ...(bucket ? [`${bucket} AS ${grain as string}`] : []),
    ...groupColumns.map((c) => col(c)),
    ...values.map((v) => `${v.sql} AS ${v.name}`),
  ];
  // A series reads in time order (then largest first within a period); groups largest (or smallest) first.
  const ranking = `${values[0].name} ${direction ?? 'DESC'} NULLS LAST`;
  const order = !grouped
    ? undefined
    : bucket && !direction
      ? `ORDER BY ${[grain as string, ...(groupColumns.length > 0 ? [ranking] : [])].join(', ')}`
      : `ORDER BY ${ranking}`;
  const per = [
    ...(bucket ? [`${grain as string} of ${time?.name}`] : []),
    ...groupColumns.map((c) => c.name),
  ];
  const ranked = grouped && !(bucket && !direction);
  return answer(
    lines(
      `SELECT ${select.join(', ')}`,
      `FROM ${t}`,
      whereClause,
      groupBy.length > 0 && `GROUP BY ${groupBy.join(', ')}`,
      order,
      grouped && limit !== undefined && `LIMIT ${limit}`,
    ),
    `${values.map((v) => v.name).join(', ')}${per.length > 0 ? ` by ${per.join(', ')}` : ''} in ${table.name}`,
    `${what}${per.length > 0 ? ` per ${per.join(', ')}` : ''} in ${table.name}${
      ranked ? `, ${(direction ?? 'DESC') === 'DESC' ? 'largest' : 'smallest'} first` : ''
    }${limit !== undefined && grouped ? `, top ${limit}` : ''}`,
  );
}

/** The table the words match best (its name counts too); none when no word matches anything. */
function bestTable(catalogue: Catalogue, tokens: string[]): CatalogueTable | undefined {
  let best: { table: CatalogueTable; score: number } | undefined;
  for (const table of catalogue.tables) {
    const nameWords = table.name
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .map(singular);
    let score = 0;
    for (const token of tokens) {
      const byName = nameWords.includes(token) ? 3 : 0;
      // Whole points only: what tells one table's columns apart is no reason to prefer a table.
      const byColumn = Math.ceil(
        bestColumn(
          token,
          table.columns.filter((c) => c.kind !== 'other'),
        )?.score ?? 0,
      );
      score += Math.max(byName, byColumn);
    }
    const better =
      !best ||
      score > best.score ||
      (score === best.score &&
        (Number(Boolean(table.focus)) - Number(Boolean(best.table.focus)) ||
          (table.rowEstimate ?? 0) - (best.table.rowEstimate ?? 0)) > 0);
    if (better) best = { table, score };
  }
  return best && best.score > 0 ? best.table : undefined;
}

function preview(catalogue: Catalogue, question: string): BuiltinAnswer {
  const table = [...catalogue.tables].sort(
    (a, b) =>
      Number(Boolean(b.focus)) - Number(Boolean(a.focus)) || (b.rowEstimate ?? 0) - (a.rowEstimate ?? 0),
  )[0];
  const [time] = table ? timesOf(table) : [];
  const dims = table ? dimensionsOf(table).map((c) => c.name) : [];
  return {
    sql: table
      ? lines(
          `SELECT *`,
          `FROM ${ident(table.name)}`,
          time && `ORDER BY ${col(time)} DESC NULLS LAST`,
          `LIMIT 100`,
        )
      : 'SELECT 1 AS no_tables',
    title: table ? `Preview ${table.name}` : 'No tables',
    explanation: table
      ? `Nothing in "${question.slice(0, 80)}" matched a table or column; a preview of ${table.name} instead${
          dims.length > 0 ? ` (try asking by ${dims.slice(0, 3).join(', ')})` : ''
        }.`
      : 'The dataset has no tables yet.',
    tables: table ? [table.name] : [],
    matched: false,
  };
}
