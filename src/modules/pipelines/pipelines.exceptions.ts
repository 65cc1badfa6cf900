import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException } from '../../core/http/app.exception';

export class TemplateNotFoundException extends NotFoundAppException {
  constructor(key: string) {
    super('pipeline template', key, 'TEMPLATE_NOT_FOUND');
  }
}

export class PipelineRunNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('pipeline run', id, 'PIPELINE_RUN_NOT_FOUND');
  }
}

export class PipelineAlreadyRunningException extends AppException {
  constructor(pipelineId: string, running: { pipeline_logging_id: string; status: string }) {
    super(
      'PIPELINE_ALREADY_RUNNING',
      HttpStatus.CONFLICT,
      `Pipeline '${pipelineId}' is already ${running.status}`,
      { pipeline_id: pipelineId, ...running },
    );
  }
}

/** The plan's daily or concurrent pipeline quota is spent: try again after `retryAfter` seconds. */
export class QuotaExceededException extends AppException {
  constructor(
    quota: 'daily_pipelines' | 'concurrent_pipelines',
    limit: number,
    plan: string,
    retryAfter: number,
  ) {
    const what =
      quota === 'daily_pipelines' ? `${limit} pipeline runs a day` : `${limit} pipeline runs at once`;
    super(
      'QUOTA_EXCEEDED',
      HttpStatus.TOO_MANY_REQUESTS,
      `The ${plan} plan allows ${what}`,
      { quota, limit, plan },
      undefined,
      retryAfter,
    );
  }
}
