import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class ObjectNotFoundException extends NotFoundAppException {
  constructor(path: string) {
    super('object', path, 'OBJECT_NOT_FOUND');
  }
}

/** 400 naming the field: traversal, absolute paths, backslashes, NUL, over-long keys. */
export class InvalidObjectPathException extends ValidationFailedException {
  constructor(field: string, reason: string) {
    super(HttpStatus.BAD_REQUEST, `${field}: ${reason}`, {
      fields: [{ field, constraints: { objectPath: reason } }],
    });
  }
}

export class ObjectTooLargeException extends AppException {
  constructor(limit: number) {
    // Connection: close, so the rest of an over-long body is not read (nor left blocking the connection).
    super(
      'PAYLOAD_TOO_LARGE',
      HttpStatus.PAYLOAD_TOO_LARGE,
      `Upload exceeds UPLOAD_LIMIT (${limit} bytes); nothing was stored`,
      { limit_bytes: limit },
      { Connection: 'close' },
    );
  }
}

export class ObjectPathConflictException extends AppException {
  constructor(path: string) {
    super(
      'CONFLICT',
      HttpStatus.CONFLICT,
      `'${path}' conflicts with an existing object or folder: a path cannot be both an object and a folder`,
    );
  }
}

/** A signed URL that does not check out: tampered, for another method, or expired. Nothing was read or written. */
export class SignedUrlException extends AppException {
  constructor(
    code: 'SIGNATURE_INVALID' | 'SIGNED_URL_EXPIRED' | 'SIGNED_URL_METHOD_MISMATCH',
    message: string,
  ) {
    super(code, HttpStatus.FORBIDDEN, message);
  }
}

/** The signed-URL route of the local store, asked while objects live in S3 (whose URLs point at S3 itself). */
export class SignedRouteUnavailableException extends AppException {
  constructor() {
    super(
      'NOT_FOUND',
      HttpStatus.NOT_FOUND,
      'Objects are in S3: use the presigned URL POST /storage/signed-url returns',
    );
  }
}
