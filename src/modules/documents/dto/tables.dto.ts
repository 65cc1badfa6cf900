import { ApiProperty } from '@nestjs/swagger';
import { COLUMN_TYPES, type ColumnType } from '../extraction/column-types';

export class TableColumn {
  name: string;
  @ApiProperty({ enum: COLUMN_TYPES })
  type: ColumnType;
}

export class TableResponse {
  id: string;
  tenant_id: string;
  /** The table's name in the tenant's schema: what `/data/query` and `sql.query` steps read. */
  name: string;
  /** The tenant's schema (`tenant_<tenant_id>`). */
  schema: string;
  /** The XLSX sheet it came from. */
  sheet: string | null;
  columns: TableColumn[];
  @ApiProperty({ type: 'integer' })
  row_count: number;
  /** The source document. */
  document_id: string;
  /** The job that loaded it. */
  job_id: string;
  created_at: string;
}

export class TableRowsPage {
  columns: TableColumn[];
  /** Rows in load order, keyed by column, values as text (as the CSV export writes them; empty cells are null). */
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  items: Array<Record<string, unknown>>;
  @ApiProperty({ type: 'integer' })
  total: number;
}
