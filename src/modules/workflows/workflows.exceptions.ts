import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class WorkflowNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('workflow', id, 'WORKFLOW_NOT_FOUND');
  }
}

export class WorkflowPublishedException extends AppException {
  constructor(id: string, status: string) {
    super(
      'WORKFLOW_PUBLISHED',
      HttpStatus.CONFLICT,
      `Workflow '${id}' is ${status} and cannot change; duplicate it to edit`,
    );
  }
}

export class WorkflowNotRunnableException extends AppException {
  constructor(id: string, status: string) {
    super('CONFLICT', HttpStatus.CONFLICT, `Workflow '${id}' is ${status}; only published workflows run`);
  }
}

export class WorkflowNotDeletableException extends ValidationFailedException {
  constructor(id: string, status: string) {
    super(HttpStatus.BAD_REQUEST, `Only draft workflows can be deleted; '${id}' is ${status}`, { status });
  }
}

export class WorkflowInvalidException extends ValidationFailedException {
  constructor(errors: string[]) {
    super(HttpStatus.BAD_REQUEST, `The workflow is not valid: ${errors.length} problem(s)`, { errors });
  }
}
