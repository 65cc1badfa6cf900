import { numericCell as n, type ProviderMapping, serviceCategoryOf } from './provider-mapping';
import { SampleRandom, hourOf, times } from './sample-random';

const BILLED = `COALESCE(${n('line_item_net_unblended_cost')}, ${n('line_item_unblended_cost')})`;
const TYPE = `r."line_item_line_item_type"`;

const SERVICES = [
  {
    code: 'AmazonEC2',
    usage: 'BoxUsage:m7g.large',
    unit: 'Hrs',
    rate: 0.0816,
    category: 'Compute',
    op: 'RunInstances',
  },
  {
    code: 'AmazonEC2',
    usage: 'EBS:VolumeUsage.gp3',
    unit: 'GB-Mo',
    rate: 0.08,
    category: 'Storage',
    op: 'CreateVolume-Gp3',
  },
  {
    code: 'AWSLambda',
    usage: 'Lambda-GB-Second',
    unit: 'Lambda-GB-Second',
    rate: 0.0000166667,
    category: 'Compute',
    op: 'Invoke',
  },
  {
    code: 'AmazonS3',
    usage: 'TimedStorage-ByteHrs',
    unit: 'GB-Mo',
    rate: 0.023,
    category: 'Storage',
    op: 'StandardStorage',
  },
  {
    code: 'AmazonRDS',
    usage: 'InstanceUsage:db.r6g.large',
    unit: 'Hrs',
    rate: 0.25,
    category: 'Databases',
    op: 'CreateDBInstance',
  },
  {
    code: 'AmazonDynamoDB',
    usage: 'ReadRequestUnits',
    unit: 'ReadRequestUnits',
    rate: 0.00000025,
    category: 'Databases',
    op: 'GetItem',
  },
  {
    code: 'AWSDataTransfer',
    usage: 'DataTransfer-Out-Bytes',
    unit: 'GB',
    rate: 0.09,
    category: 'Networking',
    op: 'PublicIP-Out',
  },
  {
    code: 'AmazonCloudFront',
    usage: 'DataTransfer-Out-Bytes',
    unit: 'GB',
    rate: 0.085,
    category: 'Networking',
    op: 'GET',
  },
  {
    code: 'AmazonSageMaker',
    usage: 'Notebk:ml.t3.medium',
    unit: 'Hrs',
    rate: 0.05,
    category: 'AI and Machine Learning',
    op: 'RunInstance',
  },
  {
    code: 'AmazonCloudWatch',
    usage: 'MetricMonitorUsage',
    unit: 'Metrics',
    rate: 0.3,
    category: 'Management and Governance',
    op: 'MetricStorage',
  },
  {
    code: 'AmazonRedshift',
    usage: 'Node:ra3.xlplus',
    unit: 'Hrs',
    rate: 1.086,
    category: 'Analytics',
    op: 'RunComputeNode',
  },
  {
    code: 'awskms',
    usage: 'KMS-Requests',
    unit: 'Requests',
    rate: 0.000003,
    category: 'Security',
    op: 'Decrypt',
  },
] as const;

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const ACCOUNTS = [
  { id: '210987654321', name: 'production' },
  { id: '310987654321', name: 'staging' },
  { id: '410987654321', name: 'data-platform' },
];
const TEAMS = ['checkout', 'search', 'platform', 'ml'];

const HEADER = [
  'identity_line_item_id',
  'identity_time_interval',
  'bill_invoice_id',
  'bill_invoicing_entity',
  'bill_billing_entity',
  'bill_bill_type',
  'bill_payer_account_id',
  'bill_payer_account_name',
  'bill_billing_period_start_date',
  'bill_billing_period_end_date',
  'line_item_usage_account_id',
  'line_item_usage_account_name',
  'line_item_line_item_type',
  'line_item_usage_start_date',
  'line_item_usage_end_date',
  'line_item_product_code',
  'line_item_usage_type',
  'line_item_operation',
  'line_item_availability_zone',
  'line_item_resource_id',
  'line_item_usage_amount',
  'line_item_currency_code',
  'line_item_unblended_rate',
  'line_item_unblended_cost',
  'line_item_net_unblended_cost',
  'line_item_blended_cost',
  'line_item_line_item_description',
  'line_item_legal_entity',
  'pricing_public_on_demand_cost',
  'pricing_public_on_demand_rate',
  'pricing_unit',
  'product_region_code',
  'product_servicecode',
  'product_sku',
  'product_product_family',
  'savings_plan_savings_plan_effective_cost',
  'reservation_effective_cost',
  'resource_tags',
] as const;

type Column = (typeof HEADER)[number];

const MONTH = '2026-11';

/** A rate as CUR prints it: plain decimals, never `2.5e-7`. */
const rateText = (rate: number) => rate.toFixed(10).replace(/\.?0+$/, '');

function* sample(rows: number, seed = 1): Iterable<string[]> {
  yield [...HEADER];
  const random = new SampleRandom(seed);
  for (let i = 0; i < rows; i += 1) {
    const account = random.pick(ACCOUNTS);
    const service = random.pick(SERVICES);
    const region = random.pick(REGIONS);
    const [start, end] = hourOf(random, MONTH);
    const roll = random.next();
    const type =
      roll < 0.04
        ? 'Tax'
        : roll < 0.07
          ? 'Credit'
          : roll < 0.08
            ? 'Fee'
            : roll < 0.085
              ? 'Refund'
              : roll < 0.15
                ? 'SavingsPlanCoveredUsage'
                : roll < 0.2
                  ? 'DiscountedUsage'
                  : 'Usage';
    const usage = type === 'Usage' || type === 'SavingsPlanCoveredUsage' || type === 'DiscountedUsage';
    const amount = usage ? random.decimal(0.01, 500, 6) : type === 'Fee' ? '1.000000' : '0';
    const unblended = usage
      ? times(amount, service.rate)
      : type === 'Tax'
        ? random.decimal(0.01, 40, 10)
        : type === 'Fee'
          ? random.decimal(50, 1500, 10)
          : `-${random.decimal(0.01, 60, 10)}`;
    const net = usage && random.next() < 0.3 ? times(unblended, 0.95) : '';
    const resource =
      usage && service.code === 'AmazonEC2'
        ? `i-${(0x1000000 + random.int(0xffffff)).toString(16)}0a1b2c3d`
        : usage
          ? `arn:aws:${service.code.toLowerCase()}:${region}:${account.id}:res/${random.int(400)}`
          : '';
    const tags =
      usage && random.next() < 0.7
        ? JSON.stringify({ 'user:team': random.pick(TEAMS), 'user:env': account.name })
        : '';
    const row: Record<Column, string> = {
      identity_line_item_id: `li-${seed}-${i}`,
      identity_time_interval: `${start.toISOString()}/${end.toISOString()}`,
      bill_invoice_id: 'EUINUS26-118732',
      bill_invoicing_entity: 'Amazon Web Services, Inc.',
      bill_billing_entity: type === 'Fee' && service.code === 'AmazonSageMaker' ? 'AWS Marketplace' : 'AWS',
      bill_bill_type: type === 'Fee' ? 'Purchase' : type === 'Refund' ? 'Refund' : 'Anniversary',
      bill_payer_account_id: '123456789012',
      bill_payer_account_name: 'acme-payer',
      bill_billing_period_start_date: `${MONTH}-01T00:00:00.000Z`,
      bill_billing_period_end_date: '2026-12-01T00:00:00.000Z',
      line_item_usage_account_id: account.id,
      line_item_usage_account_name: account.name,
      line_item_line_item_type: type,
      line_item_usage_start_date: start.toISOString(),
      line_item_usage_end_date: end.toISOString(),
      line_item_product_code: service.code,
      line_item_usage_type: usage ? service.usage : type,
      line_item_operation: usage ? service.op : '',
      line_item_availability_zone: usage ? `${region}${random.pick(['a', 'b', 'c'])}` : '',
      line_item_resource_id: resource,
      line_item_usage_amount: amount,
      line_item_currency_code: 'USD',
      line_item_unblended_rate: usage ? rateText(service.rate) : '',
      line_item_unblended_cost: unblended,
      line_item_net_unblended_cost: net,
      line_item_blended_cost: unblended,
      line_item_line_item_description: usage
        ? `$${rateText(service.rate)} per ${service.unit} for ${service.usage} in ${region}`
        : type === 'Tax'
          ? 'Tax for product code ' + service.code
          : type === 'Credit'
            ? 'AWS Promotional Credit'
            : type === 'Refund'
              ? `Refund for ${service.code} service issue`
              : `${service.code} upfront fee`,
      line_item_legal_entity: 'Amazon Web Services, Inc.',
      pricing_public_on_demand_cost: usage ? times(amount, service.rate) : '',
      pricing_public_on_demand_rate: usage ? rateText(service.rate) : '',
      pricing_unit: usage ? service.unit : '',
      product_region_code: usage ? region : '',
      product_servicecode: service.code,
      product_sku: usage
        ? `SKU${(service.code.length * 7919 + region.length * 104729).toString(36).toUpperCase()}${service.usage.length}`
        : '',
      product_product_family: service.category,
      savings_plan_savings_plan_effective_cost:
        type === 'SavingsPlanCoveredUsage' ? times(unblended, 0.72) : '',
      reservation_effective_cost: type === 'DiscountedUsage' ? times(unblended, 0.6) : '',
      resource_tags: tags,
    };
    yield HEADER.map((column) => row[column]);
  }
}

/**
 * AWS Cost and Usage Report 2.0 (a Data Exports CSV: snake_case columns, `line_item_unblended_cost`,
 * `bill_payer_account_id`, ..., the tags as one JSON object column, `resource_tags`) to FOCUS 1.2. Plain casts and CASEs only:
 * no per-row subquery, since a run may push millions of lines through it.
 */
export const AWS_CUR: ProviderMapping = {
  provider: 'aws',
  providerName: 'AWS',
  exportName: 'AWS Cost and Usage Report (CUR 2.0)',
  requiredColumns: [
    'bill_invoicing_entity',
    'bill_payer_account_id',
    'bill_payer_account_name',
    'bill_billing_period_start_date',
    'bill_billing_period_end_date',
    'line_item_usage_account_id',
    'line_item_usage_account_name',
    'line_item_line_item_type',
    'line_item_usage_start_date',
    'line_item_usage_end_date',
    'line_item_product_code',
    'line_item_resource_id',
    'line_item_usage_amount',
    'line_item_currency_code',
    'line_item_unblended_rate',
    'line_item_unblended_cost',
    'line_item_net_unblended_cost',
    'line_item_line_item_description',
    'line_item_legal_entity',
    'pricing_public_on_demand_cost',
    'pricing_public_on_demand_rate',
    'pricing_unit',
    'product_region_code',
    'product_sku',
    'savings_plan_savings_plan_effective_cost',
    'reservation_effective_cost',
    'resource_tags',
  ],
  focus: {
    BilledCost: BILLED,
    EffectiveCost: `CASE ${TYPE}
      WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(${n('savings_plan_savings_plan_effective_cost')}, ${BILLED})
      WHEN 'DiscountedUsage' THEN COALESCE(${n('reservation_effective_cost')}, ${BILLED})
      WHEN 'SavingsPlanNegation' THEN 0 ELSE ${BILLED} END`,
    // The public on-demand cost (rate x usage amount); lines without a list price (tax, credits, fees) list at
    // what they bill.
    ListCost: `COALESCE(${n('pricing_public_on_demand_cost')}, ${n('pricing_public_on_demand_rate')} * ${n('line_item_usage_amount')}, ${BILLED})`,
    ContractedCost: `COALESCE(${n('line_item_unblended_cost')}, ${BILLED})`,
    BillingPeriodStart: `r."bill_billing_period_start_date"::timestamptz`,
    BillingPeriodEnd: `r."bill_billing_period_end_date"::timestamptz`,
    ChargePeriodStart: `r."line_item_usage_start_date"::timestamptz`,
    ChargePeriodEnd: `r."line_item_usage_end_date"::timestamptz`,
    BillingAccountId: `r."bill_payer_account_id"`,
    BillingAccountName: `r."bill_payer_account_name"`,
    BillingCurrency: `r."line_item_currency_code"`,
    ChargeCategory: `CASE WHEN ${TYPE} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') THEN 'Usage'
      WHEN ${TYPE} = 'Tax' THEN 'Tax' WHEN ${TYPE} IN ('Credit', 'Refund') THEN 'Credit'
      WHEN ${TYPE} IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN 'Purchase'
      ELSE 'Adjustment' END`,
    ChargeClass: `CASE WHEN ${TYPE} = 'Refund' THEN 'Correction' END`,
    ChargeDescription: `r."line_item_line_item_description"`,
    InvoiceIssuerName: `r."bill_invoicing_entity"`,
    ProviderName: `'AWS'`,
    PublisherName: `COALESCE(r."line_item_legal_entity", 'Amazon Web Services, Inc.')`,
    ServiceCategory: serviceCategoryOf('line_item_product_code', [
      [['AmazonEC2', 'AWSLambda', 'AmazonECS', 'AmazonEKS', 'AWSBatch', 'AmazonLightsail'], 'Compute'],
      [['AmazonS3', 'AmazonEFS', 'AmazonGlacier', 'AWSBackup', 'AmazonFSx'], 'Storage'],
      [['AmazonRDS', 'AmazonDynamoDB', 'AmazonElastiCache', 'AmazonDocDB', 'AmazonNeptune'], 'Databases'],
      [['AWSDataTransfer', 'AmazonCloudFront', 'AmazonVPC', 'AmazonRoute53', 'AWSELB'], 'Networking'],
      [
        ['AmazonSageMaker', 'AmazonBedrock', 'AmazonRekognition', 'AmazonComprehend'],
        'AI and Machine Learning',
      ],
      [['AmazonCloudWatch', 'AWSCloudTrail', 'AWSConfig', 'AWSCostExplorer'], 'Management and Governance'],
      [['AmazonRedshift', 'AmazonAthena', 'AWSGlue', 'AmazonKinesis', 'AmazonQuickSight'], 'Analytics'],
      [['awskms', 'AWSSecretsManager', 'awswaf', 'AmazonGuardDuty', 'AWSShield'], 'Security'],
    ]),
    ServiceName: `r."line_item_product_code"`,
    PricingQuantity: n('line_item_usage_amount'),
    PricingUnit: `r."pricing_unit"`,
    RegionId: `r."product_region_code"`,
    ResourceId: `r."line_item_resource_id"`,
    SkuId: `r."product_sku"`,
    SubAccountId: `r."line_item_usage_account_id"`,
    SubAccountName: `r."line_item_usage_account_name"`,
    ConsumedQuantity: `CASE WHEN ${TYPE} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') THEN ${n('line_item_usage_amount')} END`,
    ConsumedUnit: `CASE WHEN ${TYPE} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') THEN r."pricing_unit" END`,
    ListUnitPrice: n('pricing_public_on_demand_rate'),
    ContractedUnitPrice: n('line_item_unblended_rate'),
    Tags: `NULLIF(r."resource_tags", '')::jsonb`,
  },
  sourceCost: BILLED,
  sample,
};
