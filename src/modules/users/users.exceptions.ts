import { HttpStatus } from '@nestjs/common';
import { AppException } from '../../core/http/app.exception';

export class EmailTakenException extends AppException {
  constructor(email: string) {
    super('CONFLICT', HttpStatus.CONFLICT, `A user with email '${email}' already exists`);
  }
}

export class PlanLimitReachedException extends AppException {
  constructor(what: string, limit: number, plan: string) {
    super('PLAN_LIMIT_REACHED', HttpStatus.FORBIDDEN, `The ${plan} plan allows ${limit} ${what}`, {
      limit,
      plan,
    });
  }
}

export class InvalidLoginException extends AppException {
  constructor() {
    super('INVALID_TOKEN', HttpStatus.UNAUTHORIZED, 'Invalid email or password');
  }
}
