import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_METADATA = 'conflux:rate-limit';

/** Named limits a route opts into, on top of the global, tenant and IP budgets. */
export type NamedLimit = 'login' | 'pipeline-runs' | 'ai';

export const RateLimit = (name: NamedLimit) => SetMetadata(RATE_LIMIT_METADATA, name);

/** Exempt from rate limiting (health probes). */
export const SkipRateLimit = () => SetMetadata(RATE_LIMIT_METADATA, false);
