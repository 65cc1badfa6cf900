/**
 * The typed job registry: every job name, the payload it carries and the queue it travels on. A producer can
 * only enqueue a name listed here, with its payload type; a worker refuses to boot unless each listed job has
 * exactly one `@JobHandler`. To add a job: add its payload to `JobPayloads`, its queue to `JOB_QUEUES`, and
 * a handler method in the owning module.
 */
export const QUEUE_NAMES = ['engine', 'triggers', 'maintenance', 'documents'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

// An interface (not a type alias) so test fixtures can add jobs by declaration merging.
export interface JobPayloads {
  /**
   * Executes one attempt of one step of a run (or fires an approval's timeout). `known`: the run and its steps
   * as the job's producer wrote them (a new run's first job), so the job need not read them first.
   */
  'engine.step': {
    run_id: string;
    step_id: string;
    attempt: number;
    kind: 'execute' | 'approval-timeout';
    known?: { run: object; steps: object[] };
  };
  /** One tick of a cron schedule: starts a run of the schedule's workflow. */
  'trigger.schedule': { schedule_id: string };
  /** Hourly: deletes idempotency records past their 24 h retention. */
  'maintenance.idempotency-cleanup': Record<string, never>;
  /** Hourly: deletes runs (steps, events) that ended more than RUN_RETENTION_DAYS ago. */
  'maintenance.run-retention': Record<string, never>;
  /** Every 10 minutes: drops pipeline staging tables left by runs that ended or are gone. */
  'maintenance.pipeline-stage-sweep': Record<string, never>;
  /** Extracts one document's tables (an extraction job's id; the job row holds the rest). */
  'documents.extract': { job_id: string; tenant_id: string };
}

export type JobName = Extract<keyof JobPayloads, string>;

export type JobCatalog = Record<string, QueueName>;

export const JOB_QUEUES: JobCatalog = {
  'engine.step': 'engine',
  'trigger.schedule': 'triggers',
  'maintenance.idempotency-cleanup': 'maintenance',
  'maintenance.run-retention': 'maintenance',
  'maintenance.pipeline-stage-sweep': 'maintenance',
  'documents.extract': 'documents',
};

export const JOB_CATALOG = Symbol('JOB_CATALOG');
