/**
 * `npm run bench:guarantees`: the latency the idempotency and rate-limit layers add per request, measured
 * against the same endpoint without them, interleaved in one run on one app (real Postgres and Redis).
 * Prints p50 / p99 / mean per variant and the added milliseconds over the plain route. Not a test.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Controller, Module, Post } from '@nestjs/common';
import { Auth, CurrentPrincipal } from '../src/core/auth/auth.decorator';
import type { Principal } from '../src/core/auth/principal';
import { Idempotent } from '../src/core/http/idempotency/idempotent.decorator';
import { SkipRateLimit } from '../src/core/http/rate-limit/rate-limit.decorator';
import { ApiKeysService } from '../src/modules/api-keys/api-keys.service';
import { loginAdmin, onboardTenant } from '../test/support/auth';
import { prepareTestBackends } from '../test/support/backends';
import { createTestBackends, relaxRateLimits, startTestApi } from '../test/support/harness';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

@Controller('bench')
class BenchController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  private create(principal: Principal) {
    return this.apiKeys.create(principal.tenant_id as string, { name: 'bench' });
  }

  @Post('plain')
  @Auth({ role: 'owner' })
  @SkipRateLimit()
  plain(@CurrentPrincipal() p: Principal) {
    return this.create(p);
  }

  @Post('rate-limited')
  @Auth({ role: 'owner' })
  rateLimited(@CurrentPrincipal() p: Principal) {
    return this.create(p);
  }

  @Post('idempotent')
  @Auth({ role: 'owner' })
  @SkipRateLimit()
  @Idempotent()
  idempotent(@CurrentPrincipal() p: Principal) {
    return this.create(p);
  }

  @Post('both')
  @Auth({ role: 'owner' })
  @Idempotent()
  both(@CurrentPrincipal() p: Principal) {
    return this.create(p);
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

const VARIANTS = ['plain', 'rate-limited', 'idempotent', 'both'] as const;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const stopBackends = await prepareTestBackends();
  const backends = await createTestBackends();
  const api = await startTestApi(backends.env, { imports: [BenchModule] });
  try {
    await relaxRateLimits(backends);
    const tenant = await onboardTenant(api.url, await loginAdmin(api.url), 'bench');
    const samples: Record<(typeof VARIANTS)[number], number[]> = {
      plain: [],
      'rate-limited': [],
      idempotent: [],
      both: [],
    };
    let serial = 0;
    const once = async (variant: (typeof VARIANTS)[number]) => {
      const started = performance.now();
      const res = await fetch(`${api.url}/api/v1/bench/${variant}`, {
        method: 'POST',
        headers: {
          ...tenant.ownerKey.headers,
          'content-type': 'application/json',
          'x-idempotency-key': `k-${serial++}`,
        },
        body: '{}',
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`${variant}: HTTP ${res.status}`);
      samples[variant].push(performance.now() - started);
    };
    // Warm-up, then rounds that interleave the variants so drift hits them all alike.
    for (const variant of VARIANTS) for (let i = 0; i < 20; i += 1) await once(variant);
    for (const variant of VARIANTS) samples[variant].length = 0;
    const rounds = REQUESTS / CONCURRENCY;
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of VARIANTS)
        await Promise.all(Array.from({ length: CONCURRENCY }, () => once(variant)));
    }
    const plain = [...samples.plain].sort((a, b) => a - b);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `\n${REQUESTS} requests per variant, ${CONCURRENCY} in flight, POST creating an API key (tx + audit)\n`,
    );
    console.log('variant        p50 ms   p99 ms   mean ms   added p50   added mean');
    for (const variant of VARIANTS) {
      const sorted = [...samples[variant]].sort((a, b) => a - b);
      const row = [
        variant.padEnd(13),
        percentile(sorted, 50).toFixed(2).padStart(7),
        percentile(sorted, 99).toFixed(2).padStart(8),
        mean(sorted).toFixed(2).padStart(9),
        (percentile(sorted, 50) - percentile(plain, 50)).toFixed(2).padStart(11),
        (mean(sorted) - mean(plain)).toFixed(2).padStart(12),
      ];
      console.log(row.join(' '));
    }
  } finally {
    await api.close();
    await backends.cleanup();
    await stopBackends();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
