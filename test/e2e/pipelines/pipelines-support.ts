import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { call, type Credentials } from '../../support/auth';
import { waitFor } from '../../support/harness';

export const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'templates');

export const SAMPLES = {
  aws: path.join(TEMPLATES, 'aws/samples/cur2-billing.csv'),
  gcp: path.join(TEMPLATES, 'gcp/samples/bigquery-billing-export.csv'),
  azure: path.join(TEMPLATES, 'azure/samples/cost-details.csv'),
} as const;

export type Provider = keyof typeof SAMPLES;

/** A sample export as records keyed by its header. */
export function sampleRecords(provider: Provider): Array<Record<string, string>> {
  return parse<Record<string, string>>(readFileSync(SAMPLES[provider]), { columns: true, bom: true });
}

/**
 * The billed cost of a raw export row, by each provider's own documentation (not by Conflux's SQL): AWS CUR
 * bills the net unblended cost when the line has one, else the unblended cost; GCP bills `cost` (credits are
 * their own column, applied in EffectiveCost); Azure bills CostInBillingCurrency.
 */
export function billedCell(provider: Provider, record: Record<string, string>): string {
  if (provider === 'aws') return record.line_item_net_unblended_cost || record.line_item_unblended_cost;
  if (provider === 'gcp') return record.cost;
  return record.CostInBillingCurrency;
}

const SCALE = 12;

/** Exact decimal sum of decimal strings, as a string with 12 decimals (no float rounding). */
export function decimalSum(values: string[]): string {
  let total = 0n;
  for (const value of values) {
    if (!value) continue;
    const negative = value.startsWith('-');
    const [whole, fraction = ''] = value.replace(/^[-+]/, '').split('.');
    if (fraction.length > SCALE) throw new Error(`${value} has more than ${SCALE} decimals`);
    const units =
      BigInt(whole || '0') * 10n ** BigInt(SCALE) + BigInt((fraction + '0'.repeat(SCALE)).slice(0, SCALE));
    total += negative ? -units : units;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(SCALE + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -SCALE)}.${digits.slice(-SCALE)}`;
}

/** Postgres numeric text at 12 decimals, to compare with decimalSum. */
export const atScale = (numeric: string) => decimalSum([numeric]);

export async function runPipeline(
  baseUrl: string,
  credentials: Credentials,
  tenantId: string,
  key: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return call(baseUrl, 'POST', `/api/v1/pipelines/run/${tenantId}/${key}`, { credentials, body, headers });
}

/** Polls the run until it is COMPLETE or FAILED. */
export async function waitPipeline(
  baseUrl: string,
  credentials: Credentials,
  id: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const res = await call(baseUrl, 'GET', `/api/v1/pipelines/runs/${id}`, { credentials });
      const status = res.body.status as string;
      return status === 'COMPLETE' || status === 'FAILED' ? res.body : undefined;
    },
    `pipeline run ${id} to finish`,
    timeoutMs,
    100,
  );
}

export async function query(baseUrl: string, credentials: Credentials, sql: string, params: unknown[] = []) {
  const res = await call(baseUrl, 'POST', '/api/v1/data/query', { credentials, body: { sql, params } });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.rows as unknown[][];
}
