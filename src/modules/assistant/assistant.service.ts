import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadModule } from 'libpg-query';
import { AuditService } from '../audit/audit.service';
import { DataService } from '../data/data.service';
import { NoValidSqlException, TableNotFoundException } from './assistant.exceptions';
import { AssistantMetrics } from './assistant.metrics';
import { builtinSuggestions, type Suggestion } from './builtin-suggester';
import { buildCatalogue, type Catalogue, tableOf } from './catalogue';
import { CatalogueRepository } from './catalogue.repository';
import {
  type AiQueryDto,
  type AiQueryResponse,
  DEFAULT_SUGGESTIONS,
  type SqlSuggestDto,
  type SqlSuggestResponse,
} from './dto/assistant.dto';
import { type ChatMessage, LlmClient, LlmFailure } from './llm.client';
import { type ModelSql, parseAnswer, parseSuggestions, queryMessages, suggestMessages } from './llm-prompt';
import { answerQuestion, tokensOf } from './question-matcher';
import { SqlValidator } from './sql-validator';

/** A model's suggestions checked at most, per suggestion asked for (each costs an EXPLAIN). */
const MODEL_CANDIDATES = 2;
/** Statements checked at once (each holds one sandbox connection for an EXPLAIN). */
const CHECK_CONCURRENCY = 2;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ms = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/** What the model path ended with, for the audit event and the fallback's warning. */
interface ModelAttempt<T> {
  answer?: T;
  outcome: 'ok' | 'no_valid_sql' | LlmFailure['outcome'];
  warning?: string;
  dropped: number;
}

/**
 * The SQL assistant. Answers come from the tenant's real catalogue: the built-in suggester and question matcher,
 * or the configured OpenAI-compatible model (given the schema only, never rows) with the built-in answer behind
 * it. Whatever answers, every SQL returned has passed the data sandbox's guard and an EXPLAIN as the tenant's
 * role first; what does not pass is dropped. Audited as `ai.suggest` / `ai.query` with hashes and counts,
 * never the question's or the data's text.
 */
@Injectable()
export class AssistantService implements OnModuleInit {
  private readonly logger = new Logger('Assistant');

  constructor(
    private readonly data: DataService,
    private readonly facts: CatalogueRepository,
    private readonly validator: SqlValidator,
    private readonly llm: LlmClient,
    private readonly audit: AuditService,
    private readonly metrics: AssistantMetrics,
  ) {}

  /** The identifier quoting of generated SQL asks Postgres's scanner synchronously: load it once up front. */
  async onModuleInit(): Promise<void> {
    await loadModule();
  }

  async suggest(tenantId: string, input: SqlSuggestDto, signal?: AbortSignal): Promise<SqlSuggestResponse> {
    const started = performance.now();
    const catalogue = await this.catalogue(tenantId);
    const only = input.table === undefined ? undefined : tableOf(catalogue, input.table);
    if (input.table !== undefined && !only) throw new TableNotFoundException(input.table);
    const limit = input.limit ?? DEFAULT_SUGGESTIONS;
    const reads = (s: { tables: string[] }) => !only || s.tables.includes(only.name);

    const model = await this.fromModel(
      suggestMessages(catalogue, { context: input.context, only, limit }),
      parseSuggestions,
      async (candidates) => {
        const checked = await this.keepValid(
          tenantId,
          catalogue,
          candidates.slice(0, MODEL_CANDIDATES * limit).map(suggestionOf),
          limit,
          'llm',
          signal,
        );
        return { valid: checked.valid.filter(reads), dropped: checked.dropped };
      },
      signal,
    );
    let suggestions = model.answer;
    if (!suggestions) {
      const ranked = rank(builtinSuggestions(catalogue, only), input.context);
      suggestions = (await this.keepValid(tenantId, catalogue, ranked, limit, 'builtin', signal)).valid;
    }
    const source = model.answer ? 'llm' : 'builtin';
    await this.answered('suggest', tenantId, catalogue, model, started, {
      source,
      suggestions: suggestions.length,
      ...(only ? { table: only.name } : {}),
      ...(input.context ? { context_sha256: sha256(input.context) } : {}),
    });
    return { suggestions, source, ...(model.warning ? { warning: model.warning } : {}) };
  }

  async query(tenantId: string, input: AiQueryDto, signal?: AbortSignal): Promise<AiQueryResponse> {
    const started = performance.now();
    const catalogue = await this.catalogue(tenantId);
    const model = await this.fromModel(
      queryMessages(catalogue, input.question),
      (content) => [parseAnswer(content)],
      (candidates) => this.keepValid(tenantId, catalogue, candidates.map(suggestionOf), 1, 'llm', signal),
      signal,
    );
    let answer = model.answer?.[0];
    let warning = model.warning;
    if (!answer) {
      const builtin = answerQuestion(catalogue, input.question);
      if (!builtin.matched) warning ??= 'Nothing in the question matched a table or column';
      answer = (await this.keepValid(tenantId, catalogue, [builtin], 1, 'builtin', signal)).valid[0];
      // A generator's mistake (it is dropped and counted): the first suggestion that passes answers instead.
      answer ??= (
        await this.keepValid(tenantId, catalogue, builtinSuggestions(catalogue), 1, 'builtin', signal)
      ).valid[0];
    }
    if (!answer) throw new NoValidSqlException();
    const source = model.answer ? 'llm' : 'builtin';
    const response: AiQueryResponse = {
      sql: answer.sql,
      explanation: answer.explanation,
      source,
      tables: answer.tables,
      ...(warning ? { warning } : {}),
    };
    if (input.execute) {
      const result = await this.data.query(
        tenantId,
        { sql: answer.sql, limit: input.limit },
        { via: 'api', signal },
      );
      Object.assign(response, {
        columns: result.columns,
        rows: result.rows,
        row_count: result.row_count,
        truncated: result.truncated,
      });
    }
    await this.answered('query', tenantId, catalogue, model, started, {
      source,
      question_sha256: sha256(input.question),
      sql_sha256: sha256(answer.sql),
      tables: answer.tables,
      executed: input.execute === true,
    });
    return response;
  }

  /** Counts an answer and audits it (`ai.suggest`, `ai.query`) with what the model path did, when there is one. */
  private async answered(
    endpoint: 'suggest' | 'query',
    tenantId: string,
    catalogue: Catalogue,
    model: ModelAttempt<unknown>,
    started: number,
    details: Record<string, unknown> & { source: 'llm' | 'builtin' },
  ): Promise<void> {
    this.metrics.answered.inc({ endpoint, source: details.source });
    await this.audit.record({
      tenantId,
      eventType: `ai.${endpoint}`,
      resourceType: 'dataset',
      resourceId: catalogue.schema,
      ...(typeof details.sql_sha256 === 'string' ? { sha256: details.sql_sha256 } : {}),
      details: {
        ...details,
        ...(this.llm.configured ? { llm: model.outcome, dropped: model.dropped } : {}),
        duration_ms: ms(started),
      },
    });
  }

  /** The tenant's readable tables, classified with its keys and statistics. */
  private async catalogue(tenantId: string): Promise<Catalogue> {
    const listing = await this.data.tables(tenantId);
    return buildCatalogue(listing.schema, listing.items, await this.facts.facts(tenantId));
  }

  /**
   * Asks the model when one is configured and keeps what passes `check`. Provider trouble (timeout, HTTP error,
   * unreadable answer) and an answer with no valid SQL both come back as a warning, for the built-in answer.
   */
  private async fromModel<T>(
    messages: ChatMessage[],
    parse: (content: string) => ModelSql[],
    check: (candidates: ModelSql[]) => Promise<{ valid: T[]; dropped: number }>,
    signal?: AbortSignal,
  ): Promise<ModelAttempt<T[]>> {
    if (!this.llm.configured) return { outcome: 'ok', dropped: 0 };
    const started = performance.now();
    let candidates: ModelSql[];
    try {
      candidates = parse(await this.llm.complete(messages, signal));
      this.metrics.llm('ok', (performance.now() - started) / 1000);
    } catch (error) {
      if (!(error instanceof LlmFailure)) throw error;
      this.metrics.llm(error.outcome, (performance.now() - started) / 1000);
      return {
        outcome: error.outcome,
        warning: `${error.message}; the built-in assistant answered`,
        dropped: 0,
      };
    }
    const { valid, dropped } = await check(candidates);
    if (valid.length > 0) return { answer: valid, outcome: 'ok', dropped };
    return {
      outcome: 'no_valid_sql',
      dropped,
      warning:
        candidates.length === 0
          ? 'The model gave no SQL; the built-in assistant answered'
          : `None of the model's SQL passed the sandbox's checks (${dropped} dropped); the built-in assistant answered`,
    };
  }

  /** In order, the first `limit` candidates that pass the validator (with the tables it found them reading). */
  private async keepValid(
    tenantId: string,
    catalogue: Catalogue,
    candidates: Suggestion[],
    limit: number,
    origin: 'llm' | 'builtin',
    signal?: AbortSignal,
  ): Promise<{ valid: Suggestion[]; dropped: number }> {
    const valid: Suggestion[] = [];
    let dropped = 0;
    for (let i = 0; i < candidates.length && valid.length < limit; i += CHECK_CONCURRENCY) {
      const batch = candidates.slice(i, i + CHECK_CONCURRENCY);
      const checks = await Promise.all(
        batch.map((c) => this.validator.check(tenantId, catalogue, c.sql, signal)),
      );
      checks.forEach((checked, j) => {
        if (checked.valid) {
          if (valid.length < limit) valid.push({ ...batch[j], tables: checked.tables });
          return;
        }
        dropped += 1;
        this.metrics.drop(origin, checked.reason);
        if (origin === 'builtin')
          this.logger.warn(`built-in SQL dropped (${checked.reason}: ${checked.message}): ${batch[j].sql}`);
      });
    }
    return { valid, dropped };
  }
}

function suggestionOf(candidate: ModelSql): Suggestion {
  return {
    sql: candidate.sql,
    title: candidate.title ?? candidate.sql.split('\n')[0].slice(0, 80),
    explanation: candidate.explanation ?? '',
    tables: [],
  };
}

/** Suggestions whose title and explanation share more words with the context first; ties keep their order. */
function rank(suggestions: Suggestion[], context: string | undefined): Suggestion[] {
  if (!context) return suggestions;
  const wanted = new Set(tokensOf(context));
  const score = (s: Suggestion) =>
    new Set(tokensOf(`${s.title} ${s.explanation} ${s.tables.join(' ')}`).filter((t) => wanted.has(t))).size;
  return suggestions
    .map((s, index) => ({ s, index, score: score(s) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.s);
}
