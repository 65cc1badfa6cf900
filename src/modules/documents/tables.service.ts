import { randomUUID } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import Cursor from 'pg-cursor';
import { actorOf } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { ObjectStorage, type ObjectRead } from '../storage/object-storage';
import { DocumentEvents } from './document-events';
import { TableNotFoundException } from './documents.exceptions';
import { type DocumentRow, DocumentsRepository, type TableRow } from './documents.repository';
import { documentKey, toTableResponse } from './documents.service';
import type { TableResponse, TableRowsPage } from './dto/tables.dto';

/** Rows fetched per cursor read while exporting. */
const EXPORT_BATCH = 2000;

async function* cursorRows(cursor: Cursor<unknown[]>): AsyncGenerator<unknown[]> {
  try {
    for (;;) {
      const rows = await cursor.read(EXPORT_BATCH);
      if (rows.length === 0) return;
      yield* rows;
    }
  } finally {
    await cursor.close();
  }
}

/** Extracted tables: metadata, pages of rows, and CSV exports (each export stored as a produced document). */
@Injectable()
export class TablesService {
  constructor(
    private readonly repository: DocumentsRepository,
    private readonly events: DocumentEvents,
    private readonly storage: ObjectStorage,
    private readonly tx: Transactions,
  ) {}

  async get(tenantId: string, id: string): Promise<TableResponse> {
    return toTableResponse(await this.table(tenantId, id));
  }

  private async table(tenantId: string, id: string): Promise<TableRow> {
    const row = await this.repository.table(tenantId, id);
    if (!row) throw new TableNotFoundException(id);
    return row;
  }

  async rows(tenantId: string, id: string, offset: number, limit: number): Promise<TableRowsPage> {
    const table = await this.table(tenantId, id);
    const items = await this.repository.tableRows(table, offset, limit);
    return { columns: table.columns, items, total: table.row_count };
  }

  /**
   * Streams the table through a cursor and csv-stringify into the store (never whole in memory), records the
   * result as a produced document linked to the table, on the source document's and the job's timelines and in
   * the source document's chain, and answers the stored object (what the client downloads is what was stored).
   */
  async export(tenantId: string, id: string): Promise<{ document: DocumentRow; object: ObjectRead }> {
    const table = await this.table(tenantId, id);
    const exportId = randomUUID();
    const key = documentKey(tenantId, exportId);
    const stored = await this.tx.run(async () => {
      const client = await this.tx.client();
      const cursor = client.query(
        new Cursor<unknown[]>(this.repository.exportQuery(table), [], { rowMode: 'array' }),
      );
      // pipeline, not pipe: a failing read destroys the CSV stream, so the store keeps nothing.
      const csv = pipeline(
        Readable.from(cursorRows(cursor)),
        stringify({ header: true, columns: table.columns.map((column) => column.name) }),
        () => undefined,
      );
      return this.storage.put(key, csv, { contentType: 'text/csv' });
    });
    const filename = `${table.table_name}.csv`;
    const document = await this.tx.run(async () => {
      const row = await this.repository.insertDocument({
        id: exportId,
        tenant_id: tenantId,
        filename,
        status: 'processed',
        modality: 'tabular',
        detected_type: 'csv',
        content_type: 'text/csv',
        metadata: {
          produced_from: { table_id: table.id, document_id: table.document_id, job_id: table.job_id },
        },
        sha256: stored.sha256,
        size: stored.size,
        storage_path: key.path,
        source_table_id: table.id,
        created_by: actorOf(currentPrincipal()),
      });
      const data = {
        export_document_id: exportId,
        sha256: stored.sha256,
        size: stored.size,
        rows: table.row_count,
      };
      await this.events.record({
        tenantId,
        type: 'table.exported',
        document_id: table.document_id,
        job_id: table.job_id,
        table_id: table.id,
        sha256: stored.sha256,
        data,
      });
      await this.events.record({
        tenantId,
        type: 'document.produced',
        document_id: exportId,
        table_id: table.id,
        sha256: stored.sha256,
        data: { filename, size: stored.size, source_document_id: table.document_id },
      });
      return row;
    });
    return { document, object: await this.storage.get(key) };
  }
}
