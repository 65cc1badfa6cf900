import path from 'node:path';

/** `templates/` at the repository root (the same depth from src/, dist/ and .test-build/). */
export const TEMPLATES_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'templates');

/** The sample export a provider's templates read when a run names no document. */
export const SAMPLE_FILES: Readonly<Record<string, string>> = {
  aws: 'aws/samples/cur2-billing.csv',
  gcp: 'gcp/samples/bigquery-billing-export.csv',
  azure: 'azure/samples/cost-details.csv',
};

export const samplePath = (provider: string): string => path.join(TEMPLATES_DIR, SAMPLE_FILES[provider]);
