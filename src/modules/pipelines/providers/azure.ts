import { numericCell as n, type ProviderMapping, serviceCategoryOf } from './provider-mapping';
import { SampleRandom, hourOf, times } from './sample-random';

const day = (column: string) => `(to_date(r."${column}", 'MM/DD/YYYY')::timestamp AT TIME ZONE 'UTC')`;
const TYPE = `r."ChargeType"`;

const METERS = [
  {
    category: 'Virtual Machines',
    sub: 'Dv5 Series',
    name: 'D4s v5',
    unit: '1 Hour',
    price: 0.192,
    service: 'Microsoft.Compute',
  },
  {
    category: 'Azure App Service',
    sub: 'Premium v3 Plan',
    name: 'P1 v3',
    unit: '1 Hour',
    price: 0.169,
    service: 'Microsoft.Web',
  },
  {
    category: 'Storage',
    sub: 'Standard Page Blob',
    name: 'LRS Data Stored',
    unit: '1 GB/Month',
    price: 0.045,
    service: 'Microsoft.Storage',
  },
  {
    category: 'SQL Database',
    sub: 'General Purpose - Compute Gen5',
    name: 'vCore',
    unit: '1 Hour',
    price: 0.5044,
    service: 'Microsoft.Sql',
  },
  {
    category: 'Azure Cosmos DB',
    sub: 'Autoscale',
    name: '100 RU/s',
    unit: '1 Hour',
    price: 0.012,
    service: 'Microsoft.DocumentDB',
  },
  {
    category: 'Bandwidth',
    sub: 'Rtn Preference: MGN',
    name: 'Standard Data Transfer Out',
    unit: '1 GB',
    price: 0.087,
    service: 'Microsoft.Network',
  },
  {
    category: 'Cognitive Services',
    sub: 'Azure OpenAI',
    name: 'gpt-4o-mini Input Tokens',
    unit: '1K',
    price: 0.00015,
    service: 'Microsoft.CognitiveServices',
  },
  {
    category: 'Log Analytics',
    sub: 'Analytics Logs',
    name: 'Data Ingestion',
    unit: '1 GB',
    price: 2.3,
    service: 'Microsoft.OperationalInsights',
  },
  {
    category: 'Key Vault',
    sub: 'Standard',
    name: 'Operations',
    unit: '10K',
    price: 0.03,
    service: 'Microsoft.KeyVault',
  },
] as const;

const SUBSCRIPTIONS = [
  { id: '1f0e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', name: 'Production' },
  { id: '2a1b3c4d-5e6f-7081-92a3-b4c5d6e7f809', name: 'Development' },
  { id: '3b2c4d5e-6f70-8192-a3b4-c5d6e7f8091a', name: 'Data' },
];
const LOCATIONS = ['eastus', 'westeurope', 'northeurope', 'southeastasia'];

const HEADER = [
  'InvoiceSectionName',
  'AccountName',
  'BillingAccountId',
  'BillingAccountName',
  'BillingPeriodStartDate',
  'BillingPeriodEndDate',
  'BillingProfileId',
  'BillingProfileName',
  'SubscriptionId',
  'SubscriptionName',
  'Date',
  'ProductName',
  'MeterId',
  'MeterCategory',
  'MeterSubCategory',
  'MeterName',
  'MeterRegion',
  'Quantity',
  'EffectivePrice',
  'CostInBillingCurrency',
  'BillingCurrencyCode',
  'UnitPrice',
  'PayGPrice',
  'UnitOfMeasure',
  'ResourceLocation',
  'ConsumedService',
  'ResourceId',
  'ResourceGroup',
  'Tags',
  'ChargeType',
  'Frequency',
  'PublisherType',
  'PublisherName',
  'PricingModel',
] as const;

type Column = (typeof HEADER)[number];

const usDate = (d: Date) =>
  `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;

function* sample(rows: number, seed = 1): Iterable<string[]> {
  yield [...HEADER];
  const random = new SampleRandom(seed);
  for (let i = 0; i < rows; i += 1) {
    const subscription = random.pick(SUBSCRIPTIONS);
    const meter = random.pick(METERS);
    const location = random.pick(LOCATIONS);
    const [start] = hourOf(random, '2026-11');
    const roll = random.next();
    const type =
      roll < 0.04
        ? 'Tax'
        : roll < 0.07
          ? 'Refund'
          : roll < 0.08
            ? 'Purchase'
            : roll < 0.085
              ? 'RoundingAdjustment'
              : 'Usage';
    const usage = type === 'Usage';
    const quantity = usage ? random.decimal(0.01, 720, 6) : type === 'Purchase' ? '1.000000' : '0';
    const discount = usage && random.next() < 0.3 ? 0.85 : 1;
    const cost = usage
      ? times(quantity, meter.price * discount)
      : type === 'Tax'
        ? random.decimal(0.01, 35, 10)
        : type === 'Purchase'
          ? random.decimal(200, 3000, 10)
          : `-${random.decimal(0.01, type === 'Refund' ? 50 : 0.01, 10)}`;
    const group = `rg-${subscription.name.toLowerCase()}-${random.pick(['web', 'data', 'ml'])}`;
    const resource = usage
      ? `/subscriptions/${subscription.id}/resourceGroups/${group}/providers/${meter.service}/resources/${meter.category.toLowerCase().replace(/ /g, '-')}-${random.int(200)}`
      : '';
    const tags =
      usage && random.next() < 0.7
        ? JSON.stringify({
            team: random.pick(['checkout', 'search', 'platform', 'ml']),
            env: subscription.name.toLowerCase(),
          })
        : '';
    const row: Record<Column, string> = {
      InvoiceSectionName: 'Engineering',
      AccountName: 'acme-ea',
      BillingAccountId: '87654321',
      BillingAccountName: 'Acme Corporation',
      BillingPeriodStartDate: '11/01/2026',
      BillingPeriodEndDate: '11/30/2026',
      BillingProfileId: '87654321',
      BillingProfileName: 'Acme Corporation',
      SubscriptionId: subscription.id,
      SubscriptionName: subscription.name,
      Date: usDate(start),
      ProductName: `${meter.category} ${meter.sub} - ${meter.name}`,
      MeterId:
        usage || type === 'Purchase'
          ? `${(0x1a7c9e10 + meter.service.length).toString(16)}-0b2d-4e6f-8a1c-${String(METERS.indexOf(meter)).padStart(12, '0')}`
          : '',
      MeterCategory: type === 'Tax' ? 'Tax' : meter.category,
      MeterSubCategory: meter.sub,
      MeterName: type === 'Tax' ? 'Sales tax' : type === 'Refund' ? `Refund: ${meter.name}` : meter.name,
      MeterRegion: usage ? location : '',
      Quantity: quantity,
      EffectivePrice: usage ? (meter.price * discount).toFixed(8) : '',
      CostInBillingCurrency: cost,
      BillingCurrencyCode: 'USD',
      UnitPrice: usage ? (meter.price * discount).toFixed(8) : '',
      PayGPrice: usage ? meter.price.toFixed(8) : '',
      UnitOfMeasure: usage ? meter.unit : '',
      ResourceLocation: usage ? location : '',
      ConsumedService: type === 'Tax' ? '' : meter.service,
      ResourceId: resource,
      ResourceGroup: usage ? group : '',
      Tags: tags,
      ChargeType: type,
      Frequency: type === 'Purchase' ? 'OneTime' : 'UsageBased',
      PublisherType: meter.category === 'Cognitive Services' && random.next() < 0.3 ? 'Marketplace' : 'Azure',
      PublisherName: 'Microsoft',
      PricingModel: type === 'Purchase' ? 'Reservation' : 'OnDemand',
    };
    yield HEADER.map((column) => row[column]);
  }
}

/** Azure cost details (the actual-cost export of Cost Management) to FOCUS 1.2. */
export const AZURE_COST_DETAILS: ProviderMapping = {
  provider: 'azure',
  providerName: 'Microsoft',
  exportName: 'Azure cost details export',
  requiredColumns: [
    'BillingAccountId',
    'BillingAccountName',
    'BillingPeriodStartDate',
    'BillingPeriodEndDate',
    'SubscriptionId',
    'SubscriptionName',
    'Date',
    'MeterId',
    'MeterCategory',
    'MeterName',
    'Quantity',
    'CostInBillingCurrency',
    'BillingCurrencyCode',
    'UnitPrice',
    'PayGPrice',
    'UnitOfMeasure',
    'ResourceLocation',
    'ConsumedService',
    'ResourceId',
    'Tags',
    'ChargeType',
    'PublisherName',
  ],
  focus: {
    BilledCost: n('CostInBillingCurrency'),
    EffectiveCost: n('CostInBillingCurrency'),
    ListCost: `COALESCE(${n('PayGPrice')} * ${n('Quantity')}, ${n('CostInBillingCurrency')})`,
    ContractedCost: `COALESCE(${n('UnitPrice')} * ${n('Quantity')}, ${n('CostInBillingCurrency')})`,
    BillingPeriodStart: day('BillingPeriodStartDate'),
    BillingPeriodEnd: `${day('BillingPeriodEndDate')} + interval '1 day'`,
    ChargePeriodStart: day('Date'),
    ChargePeriodEnd: `${day('Date')} + interval '1 day'`,
    BillingAccountId: `r."BillingAccountId"`,
    BillingAccountName: `r."BillingAccountName"`,
    BillingCurrency: `r."BillingCurrencyCode"`,
    ChargeCategory: `CASE WHEN ${TYPE} IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN 'Usage'
      WHEN ${TYPE} = 'Purchase' THEN 'Purchase' WHEN ${TYPE} = 'Tax' THEN 'Tax' WHEN ${TYPE} = 'Refund' THEN 'Credit'
      ELSE 'Adjustment' END`,
    ChargeClass: `CASE WHEN ${TYPE} = 'Refund' THEN 'Correction' END`,
    ChargeDescription: `r."MeterName"`,
    InvoiceIssuerName: `'Microsoft'`,
    ProviderName: `'Microsoft'`,
    PublisherName: `COALESCE(r."PublisherName", 'Microsoft')`,
    ServiceCategory: serviceCategoryOf('MeterCategory', [
      [
        [
          'Virtual Machines',
          'Azure App Service',
          'Functions',
          'Container Instances',
          'Azure Kubernetes Service',
        ],
        'Compute',
      ],
      [['Storage', 'Azure NetApp Files', 'Backup'], 'Storage'],
      [['SQL Database', 'Azure Cosmos DB', 'Azure Database for PostgreSQL', 'Redis Cache'], 'Databases'],
      [
        ['Bandwidth', 'Virtual Network', 'Load Balancer', 'Azure DNS', 'Content Delivery Network'],
        'Networking',
      ],
      [['Cognitive Services', 'Azure Machine Learning'], 'AI and Machine Learning'],
      [['Log Analytics', 'Azure Monitor'], 'Management and Governance'],
      [['Key Vault', 'Microsoft Defender for Cloud'], 'Security'],
      [['Azure Synapse Analytics', 'Azure Data Factory v2'], 'Analytics'],
    ]),
    ServiceName: `COALESCE(r."ConsumedService", r."MeterCategory")`,
    PricingQuantity: n('Quantity'),
    PricingUnit: `r."UnitOfMeasure"`,
    RegionId: `r."ResourceLocation"`,
    ResourceId: `r."ResourceId"`,
    SkuId: `r."MeterId"`,
    SubAccountId: `r."SubscriptionId"`,
    SubAccountName: `r."SubscriptionName"`,
    ConsumedQuantity: `CASE WHEN ${TYPE} = 'Usage' THEN ${n('Quantity')} END`,
    ConsumedUnit: `CASE WHEN ${TYPE} = 'Usage' THEN r."UnitOfMeasure" END`,
    ListUnitPrice: n('PayGPrice'),
    ContractedUnitPrice: n('UnitPrice'),
    Tags: `CASE WHEN r."Tags" IS NULL OR r."Tags" = '' THEN NULL WHEN left(r."Tags", 1) = '{' THEN r."Tags"::jsonb ELSE ('{' || r."Tags" || '}')::jsonb END`,
  },
  sourceCost: n('CostInBillingCurrency'),
  sample,
};
