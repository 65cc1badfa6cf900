import { Injectable } from '@nestjs/common';
import type { JobPayloads } from '../../core/queue/job-catalog';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { ExtractionService } from './extraction.service';
import { EXTRACTION_ATTEMPTS } from './jobs.service';

/** The worker's `documents` queue: one extraction job at a time per delivery. */
@Injectable()
export class ExtractionProcessor {
  constructor(private readonly extraction: ExtractionService) {}

  @JobHandler('documents.extract')
  extract(payload: JobPayloads['documents.extract'], job: { attemptsMade: number }): Promise<void> {
    // attemptsMade counts failed attempts before this one; the last one records the failure instead of throwing.
    return this.extraction.run(payload.job_id, job.attemptsMade + 1 >= EXTRACTION_ATTEMPTS);
  }
}
