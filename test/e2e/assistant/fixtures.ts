import { Client } from 'pg';
import type { Env } from '../../../src/core/config/config.loader';
import { type Credentials, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
} from '../../support/harness';

/** The FOCUS 1.2 columns (mandatory, then conditional), as a FOCUS loader writes them. */
const FOCUS_COLUMNS = `
  "BilledCost" numeric(18,6) NOT NULL,
  "EffectiveCost" numeric(18,6) NOT NULL,
  "ListCost" numeric(18,6) NOT NULL,
  "ContractedCost" numeric(18,6) NOT NULL,
  "BillingPeriodStart" timestamptz NOT NULL,
  "BillingPeriodEnd" timestamptz NOT NULL,
  "ChargePeriodStart" timestamptz NOT NULL,
  "ChargePeriodEnd" timestamptz NOT NULL,
  "BillingAccountId" text NOT NULL,
  "BillingCurrency" text NOT NULL,
  "ChargeCategory" text NOT NULL,
  "InvoiceIssuerName" text NOT NULL,
  "ProviderName" text NOT NULL,
  "PublisherName" text NOT NULL,
  "ServiceCategory" text NOT NULL,
  "ServiceName" text NOT NULL,
  "PricingQuantity" numeric(18,6),
  "BillingAccountName" text,
  "ChargeClass" text,
  "ChargeDescription" text,
  "PricingUnit" text,
  "RegionId" text,
  "ResourceId" text,
  "SkuId" text,
  "SubAccountId" text,
  "ConsumedQuantity" numeric(18,6),
  "ListUnitPrice" numeric(18,9),
  "ContractedUnitPrice" numeric(18,9),
  "Tags" jsonb`;

const SERVICES: Array<[string, string, string, number]> = [
  ['Amazon Elastic Compute Cloud', 'Compute', 'Hrs', 0.096],
  ['Amazon Simple Storage Service', 'Storage', 'GB-Mo', 0.023],
  ['Amazon Relational Database Service', 'Databases', 'Hrs', 0.171],
  ['AWS Lambda', 'Compute', 'Requests', 0.0000002],
  ['Amazon CloudFront', 'Networking', 'GB', 0.085],
  ['Amazon SageMaker', 'AI and Machine Learning', 'Hrs', 0.23],
];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const ACCOUNTS = ['111111111111', '222222222222'];

/** A deterministic generator, so every run loads the same bill. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const monthStart = (offset: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
};

type FocusRow = Record<string, unknown>;

/** What every line of this bill shares. */
const BILL: FocusRow = {
  BillingAccountId: ACCOUNTS[0],
  BillingAccountName: 'Acme Production',
  BillingCurrency: 'USD',
  InvoiceIssuerName: 'Amazon Web Services, Inc.',
  ProviderName: 'AWS',
  PublisherName: 'Amazon Web Services, Inc.',
};

/**
 * `focus_billing` in the tenant's schema: a FOCUS 1.2 AWS bill over the month before last, last month and this
 * month, usage for six services in three regions, plus credits, tax and a purchase.
 */
export async function createFocusTable(db: Client, schema: string): Promise<void> {
  await db.query(`CREATE TABLE ${schema}.focus_billing (${FOCUS_COLUMNS})`);
  const next = random(42);
  const rows: FocusRow[] = [];
  for (const offset of [-2, -1, 0]) {
    const billing = { BillingPeriodStart: monthStart(offset), BillingPeriodEnd: monthStart(offset + 1) };
    const period = billing.BillingPeriodStart.getTime();
    for (let day = 1; day <= 20; day += 1) {
      const start = new Date(period + (day - 1) * 86_400_000);
      for (const [s, [service, category, unit, price]] of SERVICES.entries()) {
        if ((day + s) % 3 === 0) continue;
        const region = REGIONS[(day + s) % REGIONS.length];
        // Lambda is billed per request: millions of them.
        const quantity = Math.round((10 + next() * 500) * 1000) / (s === 3 ? 1 / 1000 : 1000);
        const list = Math.round(quantity * price * 1_000_000) / 1_000_000;
        const effective = Math.round(list * 0.82 * 1_000_000) / 1_000_000;
        rows.push({
          ...billing,
          BilledCost: list,
          EffectiveCost: effective,
          ListCost: list,
          ContractedCost: effective,
          ChargePeriodStart: start,
          ChargePeriodEnd: new Date(start.getTime() + 86_400_000),
          BillingAccountId: ACCOUNTS[s % 2],
          ChargeCategory: 'Usage',
          ServiceCategory: category,
          ServiceName: service,
          PricingQuantity: quantity,
          ChargeDescription: `${service} usage in ${region}`,
          PricingUnit: unit,
          RegionId: region,
          ResourceId: `arn:aws:${s}:${region}:resource/${day % 4}`,
          SkuId: `SKU-${s}-${region}`,
          SubAccountId: ACCOUNTS[(s + 1) % 2],
          ConsumedQuantity: quantity,
          ListUnitPrice: price,
          ContractedUnitPrice: price * 0.82,
          Tags: JSON.stringify({ team: day % 2 ? 'web' : 'data' }),
        });
      }
    }
    const mid = new Date(period + 14 * 86_400_000);
    for (const [service, category, amount] of [
      ['Amazon Elastic Compute Cloud', 'Compute', -25.5],
      ['Amazon SageMaker', 'AI and Machine Learning', -10],
    ] as const) {
      rows.push({
        ...billing,
        BilledCost: amount,
        EffectiveCost: amount,
        ListCost: 0,
        ContractedCost: amount,
        ChargePeriodStart: mid,
        ChargePeriodEnd: billing.BillingPeriodEnd,
        ChargeCategory: 'Credit',
        ServiceCategory: category,
        ServiceName: service,
        ChargeDescription: 'Promotional credit',
      });
    }
    rows.push({
      ...billing,
      BilledCost: 42.17,
      EffectiveCost: 42.17,
      ListCost: 42.17,
      ContractedCost: 42.17,
      ChargePeriodStart: billing.BillingPeriodStart,
      ChargePeriodEnd: billing.BillingPeriodEnd,
      ChargeCategory: 'Tax',
      ServiceCategory: 'Other',
      ServiceName: 'Tax',
      ChargeDescription: 'Sales tax',
    });
  }
  rows.push({
    BillingPeriodStart: monthStart(-1),
    BillingPeriodEnd: monthStart(0),
    ChargePeriodStart: monthStart(-1),
    ChargePeriodEnd: monthStart(0),
    BilledCost: 1200,
    EffectiveCost: 0,
    ListCost: 1500,
    ContractedCost: 1200,
    ChargeCategory: 'Purchase',
    ServiceCategory: 'Compute',
    ServiceName: 'Amazon Elastic Compute Cloud',
    PricingQuantity: 1,
    ChargeDescription: 'Savings Plan, 1 year, no upfront',
    PricingUnit: 'Commitment',
    SkuId: 'SP-1Y',
  });
  const columns = [...FOCUS_COLUMNS.matchAll(/"(\w+)"/g)].map((m) => m[1]);
  for (let i = 0; i < rows.length; i += 100) {
    const batch = rows.slice(i, i + 100).map((row) => {
      const line: FocusRow = { ...BILL, ...row };
      return columns.map((c) => line[c] ?? null);
    });
    const values = batch
      .map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
      .join(', ');
    await db.query(`INSERT INTO ${schema}.focus_billing VALUES ${values}`, batch.flat());
  }
  await db.query(`ANALYZE ${schema}.focus_billing`);
}

/**
 * `sales_orders` as table extraction of an uploaded CSV loads one (typed columns, the CSV's header names). Until
 * the documents module lands it is created here, directly in the tenant's schema.
 */
export async function createCsvTable(db: Client, schema: string): Promise<void> {
  await db.query(`CREATE TABLE ${schema}.sales_orders (
    order_id text NOT NULL, order_date date NOT NULL, customer text NOT NULL, product text NOT NULL,
    region text NOT NULL, quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL, amount numeric(12,2) NOT NULL,
    notes text)`);
  const next = random(7);
  const customers = ['Initrode', 'Globex', 'Umbrella', 'Hooli', 'Soylent'];
  const products = ['Widget', 'Gadget', 'Gizmo', 'Doohickey'];
  const regions = ['EMEA', 'AMER', 'APAC'];
  const rows: unknown[][] = [];
  for (let i = 1; i <= 120; i += 1) {
    const quantity = 1 + Math.floor(next() * 20);
    const price = [4.5, 12, 19.99, 7.25][i % 4];
    rows.push([
      `SO-${String(i).padStart(5, '0')}`,
      new Date(Date.UTC(2025, 0, 1) + i * 2 * 86_400_000).toISOString().slice(0, 10),
      customers[i % customers.length],
      products[i % products.length],
      regions[Math.floor(next() * regions.length)],
      quantity,
      price,
      Math.round(quantity * price * 100) / 100,
      i % 10 === 0 ? 'rush delivery' : null,
    ]);
  }
  const values = rows.map(
    (_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`,
  );
  await db.query(`INSERT INTO ${schema}.sales_orders VALUES ${values.join(', ')}`, rows.flat());
  await db.query(`ANALYZE ${schema}.sales_orders`);
}

/** Rows as sorted JSON lines: two results with the same rows in any order compare equal. */
export const rowSet = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row)).sort();

export interface AssistantBackends {
  backends: TestBackends;
  api: RunningApi;
  admin: Credentials;
  /** The database as Conflux's own login (what loaders write tenant tables with). */
  db: Client;
  /** A tenant with `focus_billing` and `sales_orders` next to its onboarding tables. */
  acme: OnboardedTenant;
  stop(): Promise<void>;
}

/** A fresh database and API (with `env` on top), the tenant `acme` and its two tables. */
export async function startWithTables(env: Env = {}): Promise<AssistantBackends> {
  const backends = await createTestBackends(env);
  await relaxRateLimits(backends);
  const api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  const acme = await onboardTenant(api.url, admin, 'acme');
  const db = new Client({ connectionString: backends.databaseUrl });
  await db.connect();
  await createFocusTable(db, 'tenant_acme');
  await createCsvTable(db, 'tenant_acme');
  return {
    backends,
    api,
    admin,
    db,
    acme,
    stop: async () => {
      await db.end();
      await api.close();
      await backends.cleanup();
    },
  };
}
