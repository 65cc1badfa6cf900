import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import type { PipelineMode } from './dto/pipeline-status.dto';

export interface PipelineConfigRow {
  mode: PipelineMode;
  batch_size: number;
  model: string;
  version: number;
  updated_at: Date;
  updated_by: string | null;
}

export interface StageWindow {
  stage: string;
  attempts: number;
  failures: number;
  rows: number;
  ms: number;
}

/** The deployment's pipeline settings (one row) and what the pipeline and document stages did lately. */
@Injectable()
export class PipelineStatusRepository {
  constructor(private readonly tx: Transactions) {}

  async config(): Promise<PipelineConfigRow> {
    const [row] = await this.tx.rows<PipelineConfigRow>('SELECT * FROM pipeline_config');
    return row;
  }

  /** Applies the changes and adds one to the version (the row locked while it is rewritten). */
  async update(
    changes: Partial<Pick<PipelineConfigRow, 'mode' | 'batch_size' | 'model'>>,
    by: string | null,
  ) {
    const [row] = await this.tx.rows<PipelineConfigRow>(
      `UPDATE pipeline_config
          SET mode = COALESCE($1, mode), batch_size = COALESCE($2, batch_size), model = COALESCE($3, model),
              version = version + 1, updated_at = now(), updated_by = $4
        RETURNING *`,
      [changes.mode ?? null, changes.batch_size ?? null, changes.model ?? null, by],
    );
    return row;
  }

  /** Per stage over the last `seconds`: the pipeline steps' records and the document extraction jobs. */
  async window(seconds: number): Promise<StageWindow[]> {
    const rows = await this.tx.rows<Record<keyof StageWindow, string>>(
      `SELECT stage, count(*) AS attempts, count(*) FILTER (WHERE NOT ok) AS failures,
              COALESCE(sum(rows), 0) AS rows, COALESCE(sum(duration_ms), 0) AS ms
         FROM pipeline_stage_stats WHERE finished_at > now() - make_interval(secs => $1)
        GROUP BY stage
       UNION ALL
       SELECT 'documents', count(*), count(*) FILTER (WHERE status = 'failed'), COALESCE(sum(rows), 0),
              COALESCE(sum(extract(epoch FROM finished_at - started_at) * 1000), 0)
         FROM extraction_jobs WHERE finished_at > now() - make_interval(secs => $1)`,
      [seconds],
    );
    return rows.map((r) => ({
      stage: r.stage,
      attempts: Number(r.attempts),
      failures: Number(r.failures),
      rows: Number(r.rows),
      ms: Number(r.ms),
    }));
  }

  /** Uploads over the last `seconds`. */
  async ingest(seconds: number): Promise<{ documents: number; bytes: number }> {
    const [row] = await this.tx.rows<{ documents: string; bytes: string }>(
      `SELECT count(*) AS documents, COALESCE(sum(size), 0) AS bytes
         FROM documents WHERE created_at > now() - make_interval(secs => $1)`,
      [seconds],
    );
    return { documents: Number(row.documents), bytes: Number(row.bytes) };
  }

  /** Work waiting now: queued pipeline steps by type, and queued extraction jobs. */
  async backlog(): Promise<Record<string, number>> {
    const rows = await this.tx.rows<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM step_runs WHERE status = 'queued' AND starts_with(type, 'pipeline.') GROUP BY type
       UNION ALL
       SELECT 'documents', count(*) FROM extraction_jobs WHERE status = 'queued'`,
    );
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }
}
