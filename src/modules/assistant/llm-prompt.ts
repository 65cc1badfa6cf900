import { MAX_SQL_LENGTH } from '../data/dto/data.dto';
import type { Catalogue, CatalogueTable } from './catalogue';
import type { ChatMessage } from './llm.client';
import { LlmFailure } from './llm.client';
import { ident } from './sql-text';

/** Tables described in one prompt at most (the biggest first): a prompt stays a prompt. */
const PROMPT_TABLES = 40;
const PROMPT_COLUMNS = 80;

const RULES = [
  'You write PostgreSQL queries for a read-only SQL sandbox.',
  'Each query is exactly one SELECT statement (WITH, UNION allowed) with no parameters ($1) and no trailing comments.',
  'Read only the tables listed, by their unqualified names; quote identifiers exactly as they are written in the schema.',
  'Call only built-in PostgreSQL functions. Never write INSERT, UPDATE, DELETE, DDL, SET or locking clauses.',
  'Answer with a single JSON object and nothing else.',
].join('\n');

/**
 * The schema as the model sees it: table names, column names and types, each column's role, foreign keys.
 * Never a row, a value, a statistic or a row count.
 */
export function schemaText(catalogue: Catalogue, only?: CatalogueTable): string {
  const tables = only ? [only] : catalogue.tables.slice(0, PROMPT_TABLES);
  const names = new Set(tables.map((t) => t.name));
  const described = tables.map((table) => {
    const columns = table.columns
      .slice(0, PROMPT_COLUMNS)
      .map((c) => `  ${ident(c.name)} ${c.type}${c.kind === 'other' ? '' : ` (${c.kind})`}`);
    return [
      `${ident(table.name)}${table.focus ? ' -- a FinOps FOCUS cost and usage table' : ''}`,
      ...columns,
    ].join('\n');
  });
  const keys = catalogue.foreignKeys
    .filter((fk) => names.has(fk.table) && names.has(fk.refTable))
    .map((fk) => `  ${fk.table}(${fk.columns.join(', ')}) -> ${fk.refTable}(${fk.refColumns.join(', ')})`);
  return ['Tables:', ...described, ...(keys.length > 0 ? ['Foreign keys:', ...keys] : [])].join('\n');
}

export function suggestMessages(
  catalogue: Catalogue,
  input: { context?: string; only?: CatalogueTable; limit: number },
): ChatMessage[] {
  return [
    { role: 'system', content: RULES },
    {
      role: 'user',
      content: [
        schemaText(catalogue, input.only),
        '',
        `Suggest up to ${input.limit} useful queries over these tables${input.context ? `, for: ${input.context}` : ''}.`,
        'Answer as {"suggestions": [{"title": "...", "sql": "...", "explanation": "one line naming the columns used"}]}.',
      ].join('\n'),
    },
  ];
}

export function queryMessages(catalogue: Catalogue, question: string): ChatMessage[] {
  return [
    { role: 'system', content: RULES },
    {
      role: 'user',
      content: [
        schemaText(catalogue),
        '',
        `Write the query that answers: ${question}`,
        'Answer as {"sql": "...", "explanation": "one line naming the columns used"}.',
      ].join('\n'),
    },
  ];
}

export interface ModelSql {
  sql: string;
  title?: string;
  explanation?: string;
}

/** A JSON object out of a chat answer, fenced in ``` or not. */
function jsonOf(content: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(content)?.[1] ?? content;
  const start = fenced.indexOf('{');
  const end = fenced.lastIndexOf('}');
  if (start < 0 || end <= start) throw new LlmFailure('bad_answer', 'The model did not answer with JSON');
  try {
    return JSON.parse(fenced.slice(start, end + 1));
  } catch {
    throw new LlmFailure('bad_answer', 'The model did not answer with valid JSON');
  }
}

const str = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function modelSql(value: unknown): ModelSql | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const sql = str(record.sql);
  if (!sql || sql.length > MAX_SQL_LENGTH) return undefined;
  return { sql, title: str(record.title), explanation: str(record.explanation) };
}

export function parseSuggestions(content: string): ModelSql[] {
  const json = jsonOf(content) as { suggestions?: unknown };
  if (!Array.isArray(json.suggestions))
    throw new LlmFailure('bad_answer', 'The model gave no suggestions list');
  return json.suggestions.map(modelSql).filter((s): s is ModelSql => s !== undefined);
}

export function parseAnswer(content: string): ModelSql {
  const answer = modelSql(jsonOf(content));
  if (!answer) throw new LlmFailure('bad_answer', 'The model gave no SQL');
  return answer;
}
