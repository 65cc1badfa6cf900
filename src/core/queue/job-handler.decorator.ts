import { SetMetadata } from '@nestjs/common';
import type { JobName } from './job-catalog';

export const JOB_HANDLER = 'conflux:job-handler';

/** Marks a provider method as the one handler of a job; it receives the job's typed payload. */
export const JobHandler = (name: JobName) => SetMetadata(JOB_HANDLER, name);
