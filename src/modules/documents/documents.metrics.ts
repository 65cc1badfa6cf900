import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../core/metrics/metrics.service';

/**
 * Documents' metrics, on the process's registry (uploads on the API's /metrics, extraction on the worker's
 * metrics port). Rows per second is `rate(conflux_extraction_rows_total[5m])`; the pipeline status reads these.
 */
@Injectable()
export class DocumentsMetrics {
  readonly uploadedBytes: Counter<'type'>;
  readonly extractedRows: Counter<'parser'>;
  readonly jobDuration: Histogram<'parser' | 'outcome'>;
  readonly jobFailures: Counter<'reason'>;
  readonly rowsPerSecond: Histogram<'parser'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.uploadedBytes = new Counter({
      name: 'conflux_documents_uploaded_bytes_total',
      help: 'Bytes of documents uploaded and stored, by detected type',
      labelNames: ['type'] as const,
      registers,
    });
    this.extractedRows = new Counter({
      name: 'conflux_extraction_rows_total',
      help: 'Rows loaded into tenant tables by extraction jobs, by parser',
      labelNames: ['parser'] as const,
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'conflux_extraction_job_duration_seconds',
      help: 'Extraction job attempts from start to commit or failure, by parser and outcome',
      labelNames: ['parser', 'outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.jobFailures = new Counter({
      name: 'conflux_extraction_job_failures_total',
      help: 'Extraction jobs that failed, by reason (malformed, too_many_rows, bad_value, unsupported_type, ...)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.rowsPerSecond = new Histogram({
      name: 'conflux_extraction_rows_per_second',
      help: 'Throughput of each successful extraction job (rows loaded / job duration)',
      labelNames: ['parser'] as const,
      buckets: [100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000],
      registers,
    });
  }
}
