import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'csv-stringify';
import { stringify as stringifyRows } from 'csv-stringify/sync';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { atScale, billedCell, decimalSum } from '../../../../test/e2e/pipelines/pipelines-support';
import { createTestBackends, type TestBackends } from '../../../../test/support/harness';
import {
  CHARGE_CATEGORIES,
  FOCUS_COLUMN_NAMES,
  FOCUS_COLUMNS,
  MANDATORY_NOT_NULL,
  SERVICE_CATEGORIES,
} from '../focus/focus-columns';
import { PROVIDER_MAPPINGS, mappingOf } from '.';
import type { ProviderMapping } from './provider-mapping';
import { SAMPLE_FILES, TEMPLATES_DIR } from '../templates/templates-dir';

const ROWS = 2000;
const SEED = 2026;

/** Whether the raw row carries tags. */
const HAS_TAGS: Record<ProviderMapping['provider'], string> = {
  aws: `r."resource_tags" <> ''`,
  gcp: `r."labels" NOT IN ('', '[]')`,
  azure: `r."Tags" <> ''`,
};

const collect = (rows: Iterable<string[]>) => Array.from(rows);

/** The columns an expression reads: its `r."..."` references. */
const readsOf = (sql: string) =>
  [...sql.matchAll(/\br\."((?:[^"]|"")+)"/g)].map((m) => m[1].replace(/""/g, '"'));

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

describe('provider mappings', () => {
  let backends: TestBackends;
  let db: Client;

  beforeAll(async () => {
    backends = await createTestBackends();
    db = new Client({ connectionString: backends.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await backends?.cleanup();
  });

  it('lists the three providers, found by mappingOf', () => {
    expect(PROVIDER_MAPPINGS.map((m) => m.provider)).toEqual(['aws', 'gcp', 'azure']);
    for (const mapping of PROVIDER_MAPPINGS) expect(mappingOf(mapping.provider)).toBe(mapping);
    expect(mappingOf('oracle')).toBeUndefined();
  });

  describe.each(PROVIDER_MAPPINGS.map((m) => [m.provider, m] as const))('%s', (provider, mapping) => {
    const stage = `stage_${provider}`;
    const focus = `focus_${provider}`;
    let header: string[];
    let records: Array<Record<string, string>>;

    beforeAll(async () => {
      const rows = collect(mapping.sample(ROWS, SEED));
      header = rows[0];
      records = rows.slice(1).map((row) => Object.fromEntries(header.map((c, i) => [c, row[i]])));

      await db.query(`CREATE TABLE ${stage} (${header.map((c) => `${ident(c)} text`).join(', ')})`);
      const copy = db.query(copyFrom(`COPY ${stage} FROM STDIN (FORMAT csv, HEADER true)`));
      await pipeline(Readable.from(mapping.sample(ROWS, SEED)), stringify(), copy);

      const columns = FOCUS_COLUMN_NAMES.map(
        (name) => `(${mapping.focus[name]})::${FOCUS_COLUMNS[name]} AS ${name}`,
      );
      await db.query(
        `CREATE TABLE ${focus} AS
           SELECT ${columns.join(',\n')}, (${mapping.sourceCost})::numeric AS x_source_cost FROM ${stage} r`,
      );
    });

    it('yields the same rows for the same seed and other rows for another', () => {
      const a = collect(mapping.sample(300, 7));
      expect(a).toHaveLength(301);
      expect(collect(mapping.sample(300, 7))).toEqual(a);
      expect(collect(mapping.sample(300, 8))).not.toEqual(a);
      for (const row of a) expect(row).toHaveLength(a[0].length);
    });

    it('ships the sample its generator writes (npm run samples)', () => {
      const shipped = readFileSync(path.join(TEMPLATES_DIR, SAMPLE_FILES[provider]), 'utf8');
      expect(shipped === stringifyRows(collect(mapping.sample(5000, 2026)))).toBe(true);
    });

    it('streams: a million-row sample is produced lazily', () => {
      const iterator = mapping.sample(1_000_000, 1)[Symbol.iterator]();
      for (let i = 0; i < 3; i += 1) expect(iterator.next().done).toBe(false);
    });

    it('has an expression for every FOCUS column, reading exactly requiredColumns, all in the header', () => {
      expect(Object.keys(mapping.focus).sort()).toEqual([...FOCUS_COLUMN_NAMES].sort());
      const reads = new Set([...Object.values(mapping.focus), mapping.sourceCost].flatMap(readsOf));
      expect([...mapping.requiredColumns].sort()).toEqual([...reads].sort());
      expect(new Set(mapping.requiredColumns).size).toBe(mapping.requiredColumns.length);
      for (const column of mapping.requiredColumns) expect(header).toContain(column);
      expect(new Set(header).size).toBe(header.length);
    });

    it('bills by the same rule it reconciles with', () => {
      expect(mapping.sourceCost).toBe(mapping.focus.BilledCost);
    });

    if (provider === 'aws')
      it('keeps every expression to casts and CASEs (no per-row subquery)', () => {
        for (const sql of Object.values(mapping.focus)) expect(sql).not.toMatch(/\bselect\b/i);
      });

    it('loads one FOCUS row per export row', async () => {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${focus}`);
      expect(Number(rows[0].n)).toBe(ROWS);
    });

    it('leaves no mandatory column null', async () => {
      const counts = MANDATORY_NOT_NULL.map((c) => `count(*) FILTER (WHERE ${c} IS NULL) AS ${c}`);
      const { rows } = await db.query<Record<string, string>>(`SELECT ${counts.join(', ')} FROM ${focus}`);
      const nulls = Object.entries(rows[0]).filter(([, n]) => Number(n) > 0);
      expect(nulls).toEqual([]);
    });

    it('uses only FOCUS charge and service categories, with credits and taxes among them', async () => {
      const charge = await db.query<{ v: string; n: string }>(
        `SELECT chargecategory AS v, count(*) AS n FROM ${focus} GROUP BY 1`,
      );
      const byCharge = Object.fromEntries(charge.rows.map((r) => [r.v, Number(r.n)]));
      for (const value of Object.keys(byCharge)) expect(CHARGE_CATEGORIES).toContain(value);
      expect(byCharge.Usage).toBeGreaterThan(0);
      expect(byCharge.Credit).toBeGreaterThan(0);
      expect(byCharge.Tax).toBeGreaterThan(0);
      expect(byCharge.Purchase).toBeGreaterThan(0);

      const service = await db.query<{ v: string }>(`SELECT DISTINCT servicecategory AS v FROM ${focus}`);
      for (const { v } of service.rows) expect(SERVICE_CATEGORIES).toContain(v);
      expect(service.rows.length).toBeGreaterThanOrEqual(5);
    });

    it('keeps charge periods ordered and inside the billing period', async () => {
      const { rows } = await db.query<{ disordered: string; outside: string }>(
        `SELECT count(*) FILTER (WHERE chargeperiodstart > chargeperiodend) AS disordered,
                count(*) FILTER (WHERE chargeperiodstart < billingperiodstart OR chargeperiodend > billingperiodend
                                   OR billingperiodstart >= billingperiodend) AS outside
           FROM ${focus}`,
      );
      expect(rows[0]).toEqual({ disordered: '0', outside: '0' });
    });

    it('bills what the export states: SUM(BilledCost) = SUM(sourceCost) = the raw cells summed', async () => {
      const { rows } = await db.query<{ billed: string; source: string; staged: string }>(
        `SELECT sum(billedcost)::text AS billed, sum(x_source_cost)::text AS source,
                (SELECT sum((${mapping.sourceCost})::numeric)::text FROM ${stage} r) AS staged
           FROM ${focus}`,
      );
      const expected = decimalSum(records.map((row) => billedCell(provider, row)));
      expect({
        billed: atScale(rows[0].billed),
        source: atScale(rows[0].source),
        staged: atScale(rows[0].staged),
      }).toEqual({ billed: expected, source: expected, staged: expected });
    });

    it('keeps the other costs numeric and consistent', async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${focus}
          WHERE chargecategory = 'Usage' AND (listcost < 0 OR effectivecost < 0 OR contractedcost < 0)`,
      );
      expect(rows[0].n).toBe('0');
    });

    it('turns the source tags into a JSON object', async () => {
      const { rows } = await db.query<{ tagged: string; wrong: string }>(
        `SELECT count(*) FILTER (WHERE ${HAS_TAGS[provider]}) AS tagged,
                count(*) FILTER (WHERE ${HAS_TAGS[provider]}
                                   AND jsonb_typeof((${mapping.focus.Tags})::jsonb) IS DISTINCT FROM 'object') AS wrong
           FROM ${stage} r`,
      );
      expect(Number(rows[0].tagged)).toBeGreaterThan(0);
      expect(rows[0].wrong).toBe('0');
      const sample = await db.query<{ tags: Record<string, string> }>(
        `SELECT tags FROM ${focus} WHERE tags IS NOT NULL LIMIT 1`,
      );
      expect(Object.keys(sample.rows[0].tags).length).toBeGreaterThan(0);
      const notObject = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${focus} WHERE tags IS NOT NULL AND jsonb_typeof(tags) <> 'object'`,
      );
      expect(notObject.rows[0].n).toBe('0');
    });
  });
});
