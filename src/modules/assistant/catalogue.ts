import type { DatasetTable } from '../data/dataset.repository';

/**
 * What a column is for in a query: summed or averaged (`measure`), bucketed by `date_trunc` (`time`), grouped by
 * (`dimension`), joined or counted but never summed (`id`), read but not grouped (`text`: descriptions, messages),
 * or none of those (`other`: json, arrays, binary).
 */
export type ColumnKind = 'measure' | 'time' | 'dimension' | 'id' | 'text' | 'other';

export interface CatalogueColumn {
  name: string;
  /** The Postgres type as `format_type` writes it. */
  type: string;
  nullable: boolean;
  kind: ColumnKind;
  /** The name's words, lower-cased: `BillingAccountId` -> billing, account, id; `invoice_date` -> invoice, date. */
  words: string[];
}

export interface CatalogueTable {
  name: string;
  rowEstimate: number | null;
  columns: CatalogueColumn[];
  /** The FOCUS columns this table has (canonical FOCUS name -> its column), when it is a FOCUS cost table. */
  focus?: FocusColumns;
}

export interface ForeignKey {
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

/** A tenant's readable tables, classified; never any row. */
export interface Catalogue {
  schema: string;
  tables: CatalogueTable[];
  foreignKeys: ForeignKey[];
}

/** What pg_catalog says beyond names and types: keys and, for analyzed tables, pg_stats. */
export interface CatalogueFacts {
  foreignKeys: ForeignKey[];
  /** Single-column primary keys and unique constraints, as `table.column`. */
  keys: Set<string>;
  /** pg_stats.n_distinct by `table.column` (negative: a share of the rows). */
  distinct: Map<string, number>;
}

/** FOCUS 1.2 columns the suggester uses, with the 1.3 names accepted for them. */
const FOCUS_NAMES = {
  BilledCost: ['billedcost'],
  EffectiveCost: ['effectivecost'],
  ListCost: ['listcost'],
  ContractedCost: ['contractedcost'],
  ChargePeriodStart: ['chargeperiodstart'],
  BillingPeriodStart: ['billingperiodstart'],
  BillingCurrency: ['billingcurrency'],
  ChargeCategory: ['chargecategory'],
  ServiceName: ['servicename'],
  ServiceCategory: ['servicecategory'],
  ProviderName: ['providername', 'serviceprovidername'],
  RegionId: ['regionid'],
  RegionName: ['regionname'],
  SubAccountId: ['subaccountid'],
  SubAccountName: ['subaccountname'],
  ResourceId: ['resourceid'],
} as const;

export type FocusColumn = keyof typeof FOCUS_NAMES;
export type FocusColumns = Partial<Record<FocusColumn, CatalogueColumn>>;

/** A table is treated as FOCUS when it has these, typed as FOCUS says (a cost measure and a time). */
const FOCUS_REQUIRED: FocusColumn[] = ['BilledCost', 'ChargePeriodStart', 'ServiceName', 'ChargeCategory'];

/** `BillingAccountId` -> billing account id; `x_HTTPStatus` -> x http status; `billed_cost` -> billed cost. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Letters and digits only, lower-cased: how FOCUS names are matched whatever the loader's casing. */
export const normalized = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

const NUMBER = /^(smallint|integer|bigint|numeric|decimal|real|double precision|money)\b/;
const TIME = /^(date|timestamp)\b/;
const STRING = /^(text|character|"char"|citext|name)\b/;
const FREE_TEXT = new Set([
  'description',
  'message',
  'note',
  'notes',
  'comment',
  'comments',
  'error',
  'details',
  'detail',
  'body',
  'text',
  'reason',
  'hint',
  'url',
  'path',
  'summary',
]);
const ID_WORDS = new Set(['id', 'uuid', 'key', 'guid', 'code', 'zip', 'phone', 'sku', 'number', 'no']);
const CALENDAR = new Set(['year', 'month', 'quarter', 'week']);

/** Mostly-unique strings (over this share of the rows distinct) are labels of rows, not groups. */
const UNIQUE_SHARE = 0.9;

export function classify(
  table: string,
  column: { name: string; type: string },
  facts: CatalogueFacts,
): ColumnKind {
  const words = wordsOf(column.name);
  const last = words[words.length - 1] ?? '';
  const type = column.type;
  if (type.endsWith('[]')) return 'other';
  if (TIME.test(type)) return 'time';
  const qualified = `${table}.${column.name}`;
  const isKey = facts.keys.has(qualified);
  const isForeign = facts.foreignKeys.some((fk) => fk.table === table && fk.columns.includes(column.name));
  if (type === 'uuid' || isKey || isForeign || ID_WORDS.has(last)) return 'id';
  if (NUMBER.test(type)) return words.some((w) => CALENDAR.has(w)) ? 'dimension' : 'measure';
  if (type === 'boolean') return 'dimension';
  if (STRING.test(type)) {
    if (words.some((w) => FREE_TEXT.has(w))) return 'text';
    const distinct = facts.distinct.get(qualified);
    if (distinct !== undefined && distinct < 0 && -distinct > UNIQUE_SHARE) return 'text';
    return 'dimension';
  }
  return 'other';
}

export function buildCatalogue(schema: string, tables: DatasetTable[], facts: CatalogueFacts): Catalogue {
  const built = tables.map((table): CatalogueTable => {
    const columns = table.columns.map((column) => ({
      name: column.name,
      type: column.type,
      nullable: column.nullable,
      kind: classify(table.name, column, facts),
      words: wordsOf(column.name),
    }));
    const result: CatalogueTable = { name: table.name, rowEstimate: table.row_estimate, columns };
    const focus = focusColumns(columns);
    if (focus) result.focus = focus;
    return result;
  });
  const names = new Set(built.map((t) => t.name));
  return {
    schema,
    tables: built,
    foreignKeys: facts.foreignKeys.filter((fk) => names.has(fk.table) && names.has(fk.refTable)),
  };
}

function focusColumns(columns: CatalogueColumn[]): FocusColumns | undefined {
  const byName = new Map(columns.map((c) => [normalized(c.name), c]));
  const found: FocusColumns = {};
  for (const [canonical, names] of Object.entries(FOCUS_NAMES) as Array<[FocusColumn, readonly string[]]>) {
    const column = names.map((n) => byName.get(n)).find(Boolean);
    if (column) found[canonical] = column;
  }
  const typed =
    found.BilledCost?.kind === 'measure' &&
    found.ChargePeriodStart?.kind === 'time' &&
    FOCUS_REQUIRED.every((name) => found[name]);
  return typed ? found : undefined;
}

/** A table by name, or undefined. */
export const tableOf = (catalogue: Catalogue, name: string) => catalogue.tables.find((t) => t.name === name);
