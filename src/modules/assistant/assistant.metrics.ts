import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../core/metrics/metrics.service';
import type { LlmOutcome } from './llm.client';
import type { DropReason } from './sql-validator';

/** The SQL assistant's metrics, on the API's registry. */
@Injectable()
export class AssistantMetrics {
  readonly answered: Counter<'endpoint' | 'source'>;
  readonly llmDuration: Histogram<'outcome'>;
  readonly dropped: Counter<'origin' | 'reason'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.answered = new Counter({
      name: 'conflux_ai_answers_total',
      help: 'SQL assistant answers (suggest, query) by who answered: the configured model (llm) or the built-in suggester',
      labelNames: ['endpoint', 'source'] as const,
      registers,
    });
    this.llmDuration = new Histogram({
      name: 'conflux_ai_llm_request_duration_seconds',
      help: 'Requests to the configured model, by outcome (ok, timeout, http_error, unreachable, bad_answer)',
      labelNames: ['outcome'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.dropped = new Counter({
      name: 'conflux_ai_sql_dropped_total',
      help: 'SQL the assistant did not return because the sandbox refused or could not plan it, by origin and reason',
      labelNames: ['origin', 'reason'] as const,
      registers,
    });
  }

  llm(outcome: LlmOutcome, seconds: number): void {
    this.llmDuration.observe({ outcome }, seconds);
  }

  drop(origin: 'llm' | 'builtin', reason: DropReason): void {
    this.dropped.inc({ origin, reason });
  }
}
