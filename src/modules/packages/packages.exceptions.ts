import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class ArtifactNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('artifact', id, 'ARTIFACT_NOT_FOUND');
  }
}

/** Why an artifact was refused before anything was installed. */
export type RefusalReason =
  'unsigned' | 'missing_bytes' | 'digest_mismatch' | 'untrusted_key' | 'bad_signature' | 'unsafe_archive';

/** 400: the artifact's bytes, signature or archive do not check out; nothing was installed or changed. */
export class PackageRefusedException extends AppException {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super('PACKAGE_VERIFICATION_FAILED', HttpStatus.BAD_REQUEST, message, { reason, ...details });
  }
}

/** 422: the body is not a WPK manifest (a field missing or of the wrong type). */
export class ManifestInvalidException extends ValidationFailedException {
  constructor(errors: string[]) {
    super(
      HttpStatus.UNPROCESSABLE_ENTITY,
      `wpk is not a valid package manifest: ${errors.length} problem(s)`,
      {
        errors,
      },
    );
  }
}

/** 400: some workflows would not publish; each names its problems. Nothing was packed or installed. */
export class PackageWorkflowsInvalidException extends ValidationFailedException {
  constructor(workflows: Array<{ key: string; errors: string[] }>) {
    super(
      HttpStatus.BAD_REQUEST,
      `${workflows.length} workflow(s) of the package are not valid: ${workflows.map((w) => w.key).join(', ')}`,
      { workflows },
    );
  }
}
