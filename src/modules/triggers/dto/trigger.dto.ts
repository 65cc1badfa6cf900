import { IsBoolean, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

export class WebhookSecretResponse {
  /** Where the third party posts: POST with X-Conflux-Signature (or an X-API-Key). */
  webhook_url: string;
  /** Shown only here; rotating replaces it at once. */
  secret: string;
}

export class UpsertScheduleDto {
  @IsUUID()
  workflow_id: string;

  /** Cron: 5 fields, or 6 with seconds first (every 10 s: `0/10 * * * * *`). */
  @IsString()
  @MaxLength(200)
  cron: string;

  /** IANA time zone (default UTC). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  timezone?: string;

  /** Input of every run the schedule starts (default `{}`; checked against the workflow's input_schema). */
  @IsOptional()
  @IsObject()
  input?: Record<string, unknown>;

  /** A disabled schedule keeps its settings and does not fire. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class ScheduleResponse {
  id: string;
  workflow_id: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  enabled: boolean;
  /** The next five fire times (ISO-8601 UTC); empty while disabled. */
  next_fire_times: string[];
  created_at: string;
  updated_at: string;
}

export class SchedulePage {
  items: ScheduleResponse[];
  total: number;
}
