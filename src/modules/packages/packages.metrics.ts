import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../../core/metrics/metrics.service';
import type { RefusalReason } from './packages.exceptions';

export type DeployResult = 'deployed' | 'unchanged' | 'refused' | 'invalid';

/** Package metrics on the API's registry (/metrics). */
@Injectable()
export class PackagesMetrics {
  readonly packs: Counter;
  readonly deploys: Counter<'result'>;
  readonly verifyFailures: Counter<'reason'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.packs = new Counter({ name: 'wpk_pack_total', help: 'Packages packed (POST /wpk/pack)', registers });
    this.deploys = new Counter({
      name: 'wpk_deploy_total',
      help: 'Package deployments by result: deployed, unchanged (already deployed), refused (verification), invalid',
      labelNames: ['result'] as const,
      registers,
    });
    this.verifyFailures = new Counter({
      name: 'wpk_verify_failures_total',
      help: 'Artifacts refused by verification, by reason (unsigned, digest_mismatch, untrusted_key, ...)',
      labelNames: ['reason'] as const,
      registers,
    });
  }

  deployed(result: DeployResult): void {
    this.deploys.inc({ result });
  }

  refused(reason: RefusalReason): void {
    this.verifyFailures.inc({ reason });
  }
}
