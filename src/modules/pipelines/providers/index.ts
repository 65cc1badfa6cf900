import { AWS_CUR } from './aws';
import { AZURE_COST_DETAILS } from './azure';
import { GCP_BILLING } from './gcp';
import type { ProviderMapping } from './provider-mapping';

/** Every provider a pipeline can load, by `templates/<provider>/`. */
export const PROVIDER_MAPPINGS: readonly ProviderMapping[] = [AWS_CUR, GCP_BILLING, AZURE_COST_DETAILS];

export function mappingOf(provider: string): ProviderMapping | undefined {
  return PROVIDER_MAPPINGS.find((m) => m.provider === provider);
}
