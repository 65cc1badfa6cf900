import { HttpStatus } from '@nestjs/common';
import { AppException, NotFoundAppException, ValidationFailedException } from '../../core/http/app.exception';

export class DocumentNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('document', id, 'DOCUMENT_NOT_FOUND');
  }
}

export class ConfigurationNotFoundException extends NotFoundAppException {
  constructor(id: string, version?: number) {
    super(
      'configuration',
      version === undefined ? id : `${id}' version '${version}`,
      'CONFIGURATION_NOT_FOUND',
    );
  }
}

export class JobNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('job', id, 'JOB_NOT_FOUND');
  }
}

export class TableNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('table', id, 'TABLE_NOT_FOUND');
  }
}

/** 415: the bytes are an executable or an archive (other than XLSX), whatever the filename says. */
export class DocumentTypeRefusedException extends AppException {
  constructor(type: string) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `The file's bytes are ${type === 'binary' ? 'binary' : `a ${type} file`}, which is not accepted (executables and archives other than XLSX are refused); nothing was stored`,
      { detected_type: type },
      // The rest of the body is not read: the connection closes after the answer.
      { Connection: 'close' },
    );
  }
}

/** 400 naming the multipart part at fault (no `file`, two files, `metadata` not a JSON object, ...). */
export class InvalidUploadException extends ValidationFailedException {
  constructor(field: string, message: string) {
    super(HttpStatus.BAD_REQUEST, `${field}: ${message}`, {
      fields: [{ field, constraints: { upload: message } }],
    });
  }
}

/** 409: the document already has an extraction job queued or running. */
export class JobInProgressException extends AppException {
  constructor(documentId: string, jobId?: string) {
    super(
      'JOB_IN_PROGRESS',
      HttpStatus.CONFLICT,
      `Document '${documentId}' already has an extraction job queued or running; wait for it to finish`,
      jobId ? { job_id: jobId } : undefined,
    );
  }
}

/** 400: a document whose type holds no tables (an image, a PDF, plain text) cannot be extracted. */
export class NotExtractableException extends ValidationFailedException {
  constructor(documentId: string, type: string) {
    super(
      HttpStatus.BAD_REQUEST,
      `Document '${documentId}' is ${type}: only CSV, TSV, XLSX, JSON and text documents have tables to extract`,
      {
        fields: [{ field: 'document_id', constraints: { extractable: `a ${type} document has no tables` } }],
      },
    );
  }
}

/** 400: configuration settings that do not hold together (an unknown encoding, a delimiter equal to the quote). */
export class InvalidSettingsException extends ValidationFailedException {
  constructor(field: string, message: string) {
    super(HttpStatus.BAD_REQUEST, `settings.${field}: ${message}`, {
      fields: [{ field: `settings.${field}`, constraints: { settings: message } }],
    });
  }
}
