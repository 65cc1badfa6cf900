import { Injectable } from '@nestjs/common';
import { parse } from 'libpg-query';
import { AppException } from '../../core/http/app.exception';
import { DataService } from '../data/data.service';
import {
  QueryPermissionDeniedException,
  QueryRefusedException,
  QueryTimeoutException,
} from '../data/data.exceptions';
import type { Catalogue } from './catalogue';

/** Why a SQL text was not given to the user. */
export type DropReason = 'refused' | 'invalid' | 'denied' | 'timeout' | 'unknown_table' | 'no_table';

export type CheckedSql =
  { valid: true; tables: string[] } | { valid: false; reason: DropReason; message: string };

type Node = Record<string, unknown>;

/**
 * The relations a statement reads, CTE names left out: `[schema or undefined, name]` pairs. A walk over
 * Postgres's own parse tree (libpg-query), iterative like the sandbox guard's.
 */
async function relationsOf(sql: string): Promise<Array<[string | undefined, string]>> {
  const tree = await parse(sql);
  const ctes = new Set<string>();
  const relations: Array<[string | undefined, string]> = [];
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, child] of Object.entries(value as Node)) {
      if (key === 'RangeVar' && typeof child === 'object' && child !== null) {
        const range = child as { schemaname?: string; relname?: string };
        if (range.relname) relations.push([range.schemaname, range.relname]);
      } else if (key === 'CommonTableExpr' && typeof child === 'object' && child !== null) {
        ctes.add(String((child as { ctename?: string }).ctename));
      }
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return relations.filter(([schema, name]) => schema !== undefined || !ctes.has(name));
}

/**
 * The one gate every SQL text passes before the assistant answers with it, built in or from a model: the data
 * sandbox's own guard and an `EXPLAIN` as the tenant's role (DataService.explain), and only the tenant's own
 * tables read. A refused or failing statement is dropped with its reason; the sandbox being unavailable is
 * not the statement's fault and propagates (503).
 */
@Injectable()
export class SqlValidator {
  constructor(private readonly data: DataService) {}

  async check(
    tenantId: string,
    catalogue: Catalogue,
    sql: string,
    signal?: AbortSignal,
  ): Promise<CheckedSql> {
    try {
      await this.data.explain(tenantId, sql, signal);
    } catch (error) {
      if (!(error instanceof AppException) || error.getStatus() >= 500) throw error;
      const reason: DropReason =
        error instanceof QueryRefusedException
          ? 'refused'
          : error instanceof QueryPermissionDeniedException
            ? 'denied'
            : error instanceof QueryTimeoutException
              ? 'timeout'
              : 'invalid';
      return { valid: false, reason, message: error.message };
    }
    const known = new Set(catalogue.tables.map((t) => t.name));
    const tables = new Set<string>();
    for (const [schema, name] of await relationsOf(sql)) {
      if ((schema !== undefined && schema !== catalogue.schema) || !known.has(name)) {
        const qualified = schema ? `${schema}.${name}` : name;
        return {
          valid: false,
          reason: 'unknown_table',
          message: `${qualified} is not one of the tenant's tables`,
        };
      }
      tables.add(name);
    }
    if (tables.size === 0)
      return { valid: false, reason: 'no_table', message: "The statement reads none of the tenant's tables" };
    return { valid: true, tables: [...tables] };
  }
}
