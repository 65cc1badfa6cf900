import { numericCell as n, type ProviderMapping, serviceCategoryOf } from './provider-mapping';
import { SampleRandom, hourOf, times } from './sample-random';

const MONTH_START = `(to_date(r."invoice.month", 'YYYYMM')::timestamp AT TIME ZONE 'America/Los_Angeles')`;
const MONTH_END = `((to_date(r."invoice.month", 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'America/Los_Angeles')`;
const CREDITS = `COALESCE((SELECT sum((c->>'amount')::numeric) FROM jsonb_array_elements(NULLIF(r."credits", '')::jsonb) c), 0)`;

const SERVICES = [
  {
    id: '6F81-5844-456A',
    name: 'Compute Engine',
    sku: 'N2 Instance Core running in Americas',
    unit: 'hour',
    price: 0.031611,
    category: 'Compute',
  },
  {
    id: 'CCD8-9BF1-090E',
    name: 'Kubernetes Engine',
    sku: 'Autopilot Pod mCPU Requests',
    unit: 'hour',
    price: 0.0445,
    category: 'Compute',
  },
  {
    id: '152E-C115-5142',
    name: 'Cloud Run',
    sku: 'CPU Allocation Time',
    unit: 'vCPU-second',
    price: 0.000024,
    category: 'Compute',
  },
  {
    id: '95FF-2EF5-5EA1',
    name: 'Cloud Storage',
    sku: 'Standard Storage US Multi-region',
    unit: 'gibibyte month',
    price: 0.026,
    category: 'Storage',
  },
  {
    id: '9662-B51E-5089',
    name: 'Cloud SQL',
    sku: 'Cloud SQL for PostgreSQL: Zonal - vCPU',
    unit: 'hour',
    price: 0.0413,
    category: 'Databases',
  },
  {
    id: '24E6-581D-38E5',
    name: 'BigQuery',
    sku: 'Analysis',
    unit: 'tebibyte',
    price: 6.25,
    category: 'Analytics',
  },
  {
    id: 'E505-1604-58F8',
    name: 'Networking',
    sku: 'Network Internet Egress from Americas to Americas',
    unit: 'gibibyte',
    price: 0.12,
    category: 'Networking',
  },
  {
    id: 'C7E2-9256-1C43',
    name: 'Vertex AI',
    sku: 'Gemini Flash Input Tokens',
    unit: 'count',
    price: 0.0000001,
    category: 'AI and Machine Learning',
  },
  {
    id: '5490-F7B7-8DF6',
    name: 'Cloud Logging',
    sku: 'Log Volume',
    unit: 'gibibyte',
    price: 0.5,
    category: 'Management and Governance',
  },
  {
    id: 'EE2F-D110-890C',
    name: 'Secret Manager',
    sku: 'Secret version replica storage',
    unit: 'month',
    price: 0.06,
    category: 'Security',
  },
] as const;

const PROJECTS = [
  { id: 'acme-prod-4821', name: 'acme-prod' },
  { id: 'acme-staging-1177', name: 'acme-staging' },
  { id: 'acme-analytics-903', name: 'acme-analytics' },
];
const REGIONS = [
  { location: 'us-central1', region: 'us-central1' },
  { location: 'europe-west1', region: 'europe-west1' },
  { location: 'asia-northeast1', region: 'asia-northeast1' },
  { location: 'us', region: '' },
];

const HEADER = [
  'billing_account_id',
  'service.id',
  'service.description',
  'sku.id',
  'sku.description',
  'usage_start_time',
  'usage_end_time',
  'project.id',
  'project.name',
  'project.number',
  'labels',
  'system_labels',
  'location.location',
  'location.country',
  'location.region',
  'location.zone',
  'resource.name',
  'resource.global_name',
  'export_time',
  'cost',
  'currency',
  'currency_conversion_rate',
  'usage.amount',
  'usage.unit',
  'usage.amount_in_pricing_units',
  'usage.pricing_unit',
  'credits',
  'invoice.month',
  'cost_type',
  'cost_at_list',
  'seller_name',
] as const;

type Column = (typeof HEADER)[number];

/** A pricing unit's usage unit (`usage.unit`) and how many of them one pricing unit is. */
const USAGE_UNITS: Record<string, [string, number]> = {
  hour: ['seconds', 3600],
  'vCPU-second': ['seconds', 1],
  'gibibyte month': ['byte-seconds', 1073741824 * 2592000],
  gibibyte: ['bytes', 1073741824],
  tebibyte: ['bytes', 1099511627776],
  count: ['count', 1],
  month: ['seconds', 2592000],
};

const gcpTime = (d: Date) => d.toISOString().replace('T', ' ').replace('.000Z', ' UTC');

function* sample(rows: number, seed = 1): Iterable<string[]> {
  yield [...HEADER];
  const random = new SampleRandom(seed);
  for (let i = 0; i < rows; i += 1) {
    const project = random.pick(PROJECTS);
    const place = random.pick(REGIONS);
    // Invoice months are Pacific time: November 2026 runs from 08:00 UTC (PST) on the 1st to 08:00 UTC on Dec 1.
    const [start, end] = hourOf(random, '2026-11').map((d) => new Date(d.getTime() + 8 * 3_600_000));
    const roll = random.next();
    const type =
      roll < 0.04
        ? 'tax'
        : roll < 0.06
          ? 'adjustment'
          : roll < 0.063
            ? 'rounding_error'
            : roll < 0.068
              ? 'commitment'
              : 'regular';
    const service = type === 'tax' ? undefined : random.pick(SERVICES);
    const pricingAmount = service && type === 'regular' ? random.decimal(0.1, 900, 6) : '0';
    const listCost =
      type === 'tax'
        ? random.decimal(0.01, 30, 10)
        : type === 'adjustment'
          ? `-${random.decimal(0.01, 20, 10)}`
          : type === 'rounding_error'
            ? random.decimal(-0.000001, 0.000001, 10)
            : type === 'commitment'
              ? random.decimal(100, 2000, 10)
              : times(pricingAmount, service?.price ?? 0);
    const cost = type === 'regular' && random.next() < 0.25 ? times(listCost, 0.8) : listCost;
    const credits =
      type === 'regular' && random.next() < 0.2
        ? [
            {
              name: random.pick([
                'Sustained usage discount',
                'FreeTrial:2026-10-01',
                'Committed use discount',
              ]),
              amount: -Number(times(cost, 0.1, 6)),
              full_name: '',
              id: `credit-${random.int(50)}`,
              type: random.pick(['SUSTAINED_USAGE_DISCOUNT', 'FREE_TIER', 'COMMITTED_USAGE_DISCOUNT']),
            },
          ]
        : [];
    const labels =
      type === 'regular' && random.next() < 0.7
        ? [
            { key: 'team', value: random.pick(['checkout', 'search', 'platform', 'ml']) },
            { key: 'env', value: project.name.replace('acme-', '') },
          ]
        : [];
    const resource =
      type === 'regular' && service
        ? `${service.name.toLowerCase().replace(/ /g, '-')}-${random.int(300)}`
        : '';
    const row: Record<Column, string> = {
      billing_account_id: '01A2B3-C4D5E6-F7A8B9',
      'service.id': service?.id ?? '',
      'service.description': service?.name ?? 'Invoice',
      'sku.id': service
        ? `${service.id.slice(0, 4)}-${(i % 7) + 1}${service.id.slice(6, 9)}-${service.id.slice(10)}`
        : '',
      'sku.description':
        type === 'tax'
          ? 'Tax'
          : type === 'commitment'
            ? `Commitment v1: ${service?.sku ?? ''} for 1 year`
            : type === 'adjustment'
              ? `Billing adjustment: ${service?.sku ?? ''}`
              : type === 'rounding_error'
                ? 'Rounding error'
                : (service?.sku ?? ''),
      usage_start_time: gcpTime(start),
      usage_end_time: gcpTime(end),
      'project.id': type === 'tax' ? '' : project.id,
      'project.name': type === 'tax' ? '' : project.name,
      'project.number': type === 'tax' ? '' : String(100000000000 + project.id.length * 7919),
      labels: JSON.stringify(labels),
      system_labels: '[]',
      'location.location': type === 'tax' ? '' : place.location,
      'location.country':
        type === 'tax'
          ? ''
          : place.location.startsWith('europe')
            ? 'BE'
            : place.location.startsWith('asia')
              ? 'JP'
              : 'US',
      'location.region': type === 'tax' ? '' : place.region,
      'location.zone':
        type === 'tax' || !place.region ? '' : `${place.region}-${random.pick(['a', 'b', 'c'])}`,
      'resource.name': resource,
      'resource.global_name': resource
        ? `//${service?.name.toLowerCase().replace(/ /g, '')}.googleapis.com/projects/${project.id}/${resource}`
        : '',
      export_time: gcpTime(new Date(end.getTime() + 4 * 3_600_000)),
      cost,
      currency: 'USD',
      currency_conversion_rate: '1.0',
      'usage.amount':
        type === 'regular' && service ? times(pricingAmount, USAGE_UNITS[service.unit][1], 6) : '0',
      'usage.unit': type === 'regular' && service ? USAGE_UNITS[service.unit][0] : '',
      'usage.amount_in_pricing_units': pricingAmount,
      'usage.pricing_unit': type === 'regular' && service ? service.unit : '',
      credits: JSON.stringify(credits),
      'invoice.month': '202611',
      cost_type: type === 'commitment' ? 'regular' : type,
      cost_at_list: listCost,
      seller_name:
        type === 'regular' && service?.name === 'Vertex AI' && random.next() < 0.3 ? 'Anthropic' : '',
    };
    yield HEADER.map((column) => row[column]);
  }
}

/** Google Cloud's standard usage cost export to BigQuery (as a CSV, nested fields dotted) to FOCUS 1.2. */
export const GCP_BILLING: ProviderMapping = {
  provider: 'gcp',
  providerName: 'Google Cloud',
  exportName: 'Google Cloud BigQuery billing export',
  requiredColumns: [
    'billing_account_id',
    'service.description',
    'sku.id',
    'sku.description',
    'usage_start_time',
    'usage_end_time',
    'project.id',
    'project.name',
    'labels',
    'location.location',
    'location.region',
    'resource.global_name',
    'cost',
    'currency',
    'usage.amount',
    'usage.unit',
    'usage.amount_in_pricing_units',
    'usage.pricing_unit',
    'credits',
    'invoice.month',
    'cost_type',
    'cost_at_list',
    'seller_name',
  ],
  focus: {
    BilledCost: n('cost'),
    EffectiveCost: `${n('cost')} + ${CREDITS}`,
    ListCost: `COALESCE(${n('cost_at_list')}, ${n('cost')})`,
    ContractedCost: n('cost'),
    BillingPeriodStart: MONTH_START,
    BillingPeriodEnd: MONTH_END,
    ChargePeriodStart: `r."usage_start_time"::timestamptz`,
    ChargePeriodEnd: `r."usage_end_time"::timestamptz`,
    BillingAccountId: `r."billing_account_id"`,
    BillingAccountName: 'NULL',
    BillingCurrency: `r."currency"`,
    ChargeCategory: `CASE WHEN r."cost_type" = 'tax' THEN 'Tax'
      WHEN r."cost_type" = 'adjustment' AND ${n('cost')} < 0 THEN 'Credit'
      WHEN r."cost_type" IN ('adjustment', 'rounding_error') THEN 'Adjustment'
      WHEN starts_with(r."sku.description", 'Commitment') THEN 'Purchase' ELSE 'Usage' END`,
    ChargeClass: `CASE WHEN r."cost_type" = 'adjustment' THEN 'Correction' END`,
    ChargeDescription: `r."sku.description"`,
    InvoiceIssuerName: `'Google Cloud'`,
    ProviderName: `'Google Cloud'`,
    PublisherName: `COALESCE(r."seller_name", 'Google Cloud')`,
    ServiceCategory: serviceCategoryOf('service.description', [
      [['Compute Engine', 'Kubernetes Engine', 'Cloud Run', 'Cloud Functions', 'App Engine'], 'Compute'],
      [['Cloud Storage', 'Filestore', 'Persistent Disk'], 'Storage'],
      [['Cloud SQL', 'Cloud Spanner', 'Firestore', 'Cloud Bigtable', 'AlloyDB'], 'Databases'],
      [['BigQuery', 'Dataflow', 'Dataproc', 'Pub/Sub'], 'Analytics'],
      [['Networking', 'Cloud CDN', 'Cloud DNS', 'Cloud Load Balancing'], 'Networking'],
      [['Vertex AI', 'Cloud Vision API', 'Cloud Natural Language API'], 'AI and Machine Learning'],
      [['Cloud Logging', 'Cloud Monitoring'], 'Management and Governance'],
      [['Secret Manager', 'Cloud Key Management Service (KMS)', 'Security Command Center'], 'Security'],
    ]),
    ServiceName: `r."service.description"`,
    PricingQuantity: n('usage.amount_in_pricing_units'),
    PricingUnit: `NULLIF(r."usage.pricing_unit", '')`,
    RegionId: `COALESCE(NULLIF(r."location.region", ''), NULLIF(r."location.location", ''))`,
    ResourceId: `r."resource.global_name"`,
    SkuId: `r."sku.id"`,
    SubAccountId: `r."project.id"`,
    SubAccountName: `r."project.name"`,
    ConsumedQuantity: n('usage.amount'),
    ConsumedUnit: `NULLIF(r."usage.unit", '')`,
    ListUnitPrice: 'NULL',
    ContractedUnitPrice: 'NULL',
    // [{"key": k, "value": v}, ...] as {k: v, ...}; NULL for no labels.
    Tags: `(SELECT jsonb_object_agg(l->>'key', l->>'value') FROM jsonb_array_elements(NULLIF(r."labels", '')::jsonb) l)`,
  },
  sourceCost: n('cost'),
  sample,
};
