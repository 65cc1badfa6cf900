import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException } from '../../core/http/app.exception';

/** 404 TABLE_NOT_FOUND: `table` names no table the tenant's role can read. */
export class TableNotFoundException extends NotFoundAppException {
  constructor(table: string) {
    super('table', table, 'TABLE_NOT_FOUND');
  }
}

/** 422 NO_VALID_SQL: not one SQL over the tenant's tables passed the sandbox's checks (a dataset with no table). */
export class NoValidSqlException extends AppException {
  constructor() {
    super(
      'NO_VALID_SQL',
      HttpStatus.UNPROCESSABLE_ENTITY,
      "No SQL over the tenant's tables passed the sandbox's checks",
    );
  }
}
