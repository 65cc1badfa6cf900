import { IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';

/** The SQL assistant (`/ai/sql/suggest`, `/ai/query`): built in, or an OpenAI-compatible model when configured. */
export class AiConfig {
  /**
   * An OpenAI-compatible API base, up to the version (`https://api.openai.com/v1`, Ollama `http://localhost:11434/v1`,
   * vLLM, LiteLLM); `/chat/completions` is appended. Unset: the built-in schema-aware suggester answers alone.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  LLM_BASE_URL?: string;

  /** Sent as `Authorization: Bearer <key>` to `LLM_BASE_URL`; unset: no Authorization header (local servers). */
  @IsOptional()
  @IsString()
  LLM_API_KEY?: string;

  /** The model named in each chat completion request. */
  @IsString()
  LLM_MODEL: string = 'gpt-4o-mini';

  /** The whole model exchange (connect, answer, body) must finish within this; past it the built-in answer is used. */
  @IsInt()
  @Min(100)
  @Max(120_000)
  LLM_TIMEOUT_MS: number = 10_000;
}

/** Which assistant answers: the configured model (with the built-in one behind it) or the built-in one alone. */
export function aiBackend(config: AiConfig): 'llm' | 'builtin' {
  return config.LLM_BASE_URL ? 'llm' : 'builtin';
}
