import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class PolicyNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('policy', id, 'POLICY_NOT_FOUND');
  }
}

/** 400: an unknown action, subject, operator or field name; every problem is named. */
export class InvalidPolicyException extends ValidationFailedException {
  constructor(problems: string[]) {
    super(HttpStatus.BAD_REQUEST, `Invalid policy: ${problems.join('; ')}`, { errors: problems });
  }
}

export class PolicyNameTakenException extends AppException {
  constructor(name: string) {
    super('CONFLICT', HttpStatus.CONFLICT, `A policy named '${name}' already exists`);
  }
}

/** 403: the role would allow it, a tenant policy does not. */
export class PolicyDeniedException extends AppException {
  constructor(
    action: string,
    subject: string,
    policy: { id: string; name: string } | undefined,
    reason?: string,
  ) {
    super(
      'INSUFFICIENT_PERMISSIONS',
      HttpStatus.FORBIDDEN,
      reason
        ? `Not allowed to ${action} this ${subject.toLowerCase()}: ${reason}`
        : `Not allowed to ${action} this ${subject.toLowerCase()}${policy ? ` (policy '${policy.name}')` : ''}`,
      { action, subject, ...(policy ? { policy_id: policy.id, policy: policy.name } : {}) },
    );
  }
}
