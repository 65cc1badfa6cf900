/**
 * The FOCUS 1.2 columns Conflux loads, with their Postgres types. Tables are created with the names unquoted,
 * so Postgres folds them to lower case and `SELECT SUM(BilledCost) FROM focus_billing` works as written.
 * Columns Conflux adds for lineage carry FOCUS's `x_` prefix for custom columns.
 */
export const FOCUS_COLUMNS = {
  // Mandatory, never null.
  BilledCost: 'numeric',
  EffectiveCost: 'numeric',
  ListCost: 'numeric',
  ContractedCost: 'numeric',
  BillingPeriodStart: 'timestamptz',
  BillingPeriodEnd: 'timestamptz',
  ChargePeriodStart: 'timestamptz',
  ChargePeriodEnd: 'timestamptz',
  BillingAccountId: 'text',
  BillingCurrency: 'text',
  ChargeCategory: 'text',
  InvoiceIssuerName: 'text',
  ProviderName: 'text',
  PublisherName: 'text',
  ServiceCategory: 'text',
  ServiceName: 'text',
  // Mandatory, nullable.
  PricingQuantity: 'numeric',
  PricingUnit: 'text',
  BillingAccountName: 'text',
  ChargeClass: 'text',
  ChargeDescription: 'text',
  // Conditional: filled where the source has them, else null.
  RegionId: 'text',
  ResourceId: 'text',
  SkuId: 'text',
  SubAccountId: 'text',
  SubAccountName: 'text',
  ConsumedQuantity: 'numeric',
  ConsumedUnit: 'text',
  ListUnitPrice: 'numeric',
  ContractedUnitPrice: 'numeric',
  Tags: 'jsonb',
} as const;

export type FocusColumn = keyof typeof FOCUS_COLUMNS;

export const FOCUS_COLUMN_NAMES = Object.keys(FOCUS_COLUMNS) as FocusColumn[];

export const MANDATORY_NOT_NULL: readonly FocusColumn[] = [
  'BilledCost',
  'EffectiveCost',
  'ListCost',
  'ContractedCost',
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'ChargePeriodStart',
  'ChargePeriodEnd',
  'BillingAccountId',
  'BillingCurrency',
  'ChargeCategory',
  'InvoiceIssuerName',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
];

export const CHARGE_CATEGORIES = ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'] as const;

export const SERVICE_CATEGORIES = [
  'AI and Machine Learning',
  'Analytics',
  'Business Applications',
  'Compute',
  'Databases',
  'Developer Tools',
  'Multicloud',
  'Identity',
  'Integration',
  'Internet of Things',
  'Management and Governance',
  'Media',
  'Migration',
  'Mobile',
  'Networking',
  'Security',
  'Storage',
  'Web',
  'Other',
] as const;
