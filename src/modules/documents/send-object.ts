import { StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import type { ObjectRead } from '../storage/object-storage';
import type { DocumentRow } from './documents.repository';

/** A document's bytes as the answer: its detected type, its name as the download's, its SHA-256 as the ETag. */
export function sendObject(res: Response, document: DocumentRow, object: ObjectRead): StreamableFile {
  res.set({
    ETag: `"${document.sha256}"`,
    'Cache-Control': 'private, max-age=0',
    // Tenant bytes served from the API's origin never run as a page of it.
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'X-Content-Type-Options': 'nosniff',
  });
  return new StreamableFile(object.stream, {
    type: document.content_type,
    length: object.size,
    disposition: `attachment; filename*=UTF-8''${encodeURIComponent(document.filename)}`,
  });
}
