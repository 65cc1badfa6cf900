import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import { DatasetRepository } from '../data/dataset.repository';
import type { CatalogueFacts } from './catalogue';

/**
 * The catalogue facts of a tenant's schema the suggester classifies columns with: foreign keys, single-column
 * keys and pg_stats' distinct counts. Names, types and numbers only: never a value of a row (pg_stats'
 * most-common values and histograms are not read).
 */
@Injectable()
export class CatalogueRepository {
  constructor(
    private readonly tx: Transactions,
    private readonly datasets: DatasetRepository,
  ) {}

  async facts(tenantId: string): Promise<CatalogueFacts> {
    const schema = this.datasets.schemaName(tenantId);
    const [foreignKeys, keys, stats] = await Promise.all([
      this.tx.rows<{ table: string; columns: string[]; ref_table: string; ref_columns: string[] }>(
        `SELECT cl.relname::text AS table, fcl.relname::text AS ref_table,
                array_agg(a.attname::text ORDER BY k.ord) AS columns,
                array_agg(fa.attname::text ORDER BY k.ord) AS ref_columns
           FROM pg_constraint con
           JOIN pg_class cl ON cl.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = cl.relnamespace
           JOIN pg_class fcl ON fcl.oid = con.confrelid
           JOIN pg_namespace fn ON fn.oid = fcl.relnamespace
          CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
           JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum
          WHERE con.contype = 'f' AND n.nspname = $1 AND fn.nspname = $1
          GROUP BY con.oid, cl.relname, fcl.relname
          ORDER BY cl.relname, con.oid`,
        [schema],
      ),
      this.tx.rows<{ table: string; column: string }>(
        `SELECT cl.relname::text AS table, a.attname::text AS column
           FROM pg_constraint con
           JOIN pg_class cl ON cl.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = cl.relnamespace
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
          WHERE con.contype IN ('p', 'u') AND cardinality(con.conkey) = 1 AND n.nspname = $1`,
        [schema],
      ),
      this.tx.rows<{ table: string; column: string; n_distinct: number }>(
        `SELECT tablename::text AS table, attname::text AS column, n_distinct::float8 AS n_distinct
           FROM pg_stats WHERE schemaname = $1`,
        [schema],
      ),
    ]);
    return {
      foreignKeys: foreignKeys.map((fk) => ({
        table: fk.table,
        columns: fk.columns,
        refTable: fk.ref_table,
        refColumns: fk.ref_columns,
      })),
      keys: new Set(keys.map((k) => `${k.table}.${k.column}`)),
      distinct: new Map(stats.map((s) => [`${s.table}.${s.column}`, Number(s.n_distinct)])),
    };
  }
}
