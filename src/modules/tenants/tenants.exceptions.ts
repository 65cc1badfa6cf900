import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException } from '../../core/http/app.exception';

export class TenantNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('tenant', id, 'TENANT_NOT_FOUND');
  }
}

export class TenantExistsException extends AppException {
  constructor(id: string) {
    super('CONFLICT', HttpStatus.CONFLICT, `Tenant '${id}' already exists`);
  }
}

export class ConfigVersionConflictException extends AppException {
  constructor(given: number, current: number) {
    super(
      'CONFLICT',
      HttpStatus.CONFLICT,
      `config_version ${given} is stale; the current version is ${current}`,
      {
        current_config_version: current,
      },
    );
  }
}

export class DryRunFailedException extends AppException {
  constructor(tenantId: string) {
    super(
      'DATASET_DRYRUN_FAILED',
      HttpStatus.INTERNAL_SERVER_ERROR,
      `The dataset of '${tenantId}' failed its dry run`,
    );
  }
}
