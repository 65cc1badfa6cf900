import { Injectable, Logger } from '@nestjs/common';
import { AiConfig, aiBackend } from '../../core/config/ai.config';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export type LlmOutcome = 'ok' | 'timeout' | 'http_error' | 'unreachable' | 'bad_answer';

/** The model did not give a usable answer; `message` is fit for the response's `warning`. */
export class LlmFailure extends Error {
  constructor(
    readonly outcome: Exclude<LlmOutcome, 'ok'>,
    message: string,
  ) {
    super(message);
  }
}

/** An answer larger than this is not one a prompt asked for. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * Chat completions against any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LiteLLM): one request, the whole
 * exchange (connect, headers, body) bounded by LLM_TIMEOUT_MS and the answer by size. What it sends is what
 * the caller built: the assistant's prompts hold the schema only, never rows.
 */
@Injectable()
export class LlmClient {
  private readonly logger = new Logger('Assistant');

  constructor(private readonly config: AiConfig) {}

  get configured(): boolean {
    return aiBackend(this.config) === 'llm';
  }

  /** The first choice's message content. */
  async complete(messages: ChatMessage[], signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.config.LLM_TIMEOUT_MS);
    const url = `${(this.config.LLM_BASE_URL as string).replace(/\/+$/, '')}/chat/completions`;
    let text: string;
    let status: number;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.config.LLM_API_KEY ? { authorization: `Bearer ${this.config.LLM_API_KEY}` } : {}),
        },
        body: JSON.stringify({ model: this.config.LLM_MODEL, messages, temperature: 0 }),
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
        redirect: 'error',
      });
      status = res.status;
      text = await readCapped(res);
    } catch (error) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
      if (timeout.aborted)
        throw new LlmFailure('timeout', `The model did not answer within ${this.config.LLM_TIMEOUT_MS} ms`);
      if (error instanceof LlmFailure) throw error;
      this.logger.warn(`LLM request failed: ${(error as Error).message}`);
      throw new LlmFailure('unreachable', 'The model endpoint could not be reached');
    }
    if (status < 200 || status > 299) {
      this.logger.warn(`LLM answered ${status}: ${text.slice(0, 200)}`);
      throw new LlmFailure('http_error', `The model endpoint answered HTTP ${status}`);
    }
    let content: unknown;
    try {
      content = (JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]
        ?.message?.content;
    } catch {
      content = undefined;
    }
    if (typeof content !== 'string' || content.trim() === '')
      throw new LlmFailure('bad_answer', 'The model endpoint gave no chat completion');
    return content;
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new LlmFailure('bad_answer', `The model's answer was larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
