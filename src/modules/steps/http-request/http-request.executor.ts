import { Injectable } from '@nestjs/common';
import { Agent, request } from 'undici';
import { EngineConfig } from '../../../core/config/engine.config';
import { allowListFrom, assertReachable, guardedLookup, SsrfBlockedError } from './ssrf';
import { PermanentStepError, type StepContext, StepExecutor, type StepOutcome } from '../step-executor';

const MAX_REDIRECTS = 5;
/** Headers a redirect to another origin keeps; the step's others (credentials, tokens) stay with the origin. */
const CROSS_ORIGIN_SAFE = new Set(['accept', 'accept-language', 'user-agent', 'idempotency-key']);

/**
 * HTTP with an SSRF guard on by default: the host is checked before connecting and the socket's own DNS
 * lookup is checked again (DNS rebinding), on every redirect. Sends `Idempotency-Key: <run>:<step>` so the
 * far side can drop the duplicate a crashed-and-retried attempt would send. 5xx and network errors fail the
 * attempt (retried); other statuses are the step's output. Redirects as RFC 9110 15.4 and browsers do them: 303,
 * and 301/302 after a POST, continue as a GET without the body; a redirect to another origin sends none of the
 * step's headers but the harmless ones (no Authorization, Cookie or API token leaves for a host nobody named).
 */
@Injectable()
export class HttpRequestExecutor extends StepExecutor {
  private readonly allow: Set<string>;
  private readonly agent: Agent;

  constructor(private readonly config: EngineConfig) {
    super();
    this.allow = allowListFrom(config.HTTP_STEP_ALLOW_HOSTS);
    this.agent = new Agent({ connect: { lookup: guardedLookup(this.allow) } });
  }

  async execute(context: StepContext): Promise<StepOutcome> {
    const { method, url, headers, body } = context.config as {
      method: string;
      url: string;
      headers?: Record<string, string>;
      body?: unknown;
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new PermanentStepError(`invalid URL '${url}'`);
    }
    let payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    let verb = method.toUpperCase();
    let requestHeaders: Record<string, string> = {
      ...(payload !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
      'idempotency-key': `${context.runId}:${context.stepId}`,
    };
    for (let hop = 0; ; hop += 1) {
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        throw new PermanentStepError(`unsupported protocol ${target.protocol}`);
      await this.guard(target);
      const response = await request(target, {
        method: verb as 'GET',
        headers: requestHeaders,
        body: payload,
        dispatcher: this.agent,
        signal: context.signal,
      }).catch((error: Error & { code?: string }) => {
        if (error.code === 'ESSRF' || error instanceof SsrfBlockedError)
          throw new PermanentStepError(error.message);
        throw error;
      });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw new PermanentStepError(`more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, target);
        const status = response.statusCode;
        if ((status === 303 && verb !== 'HEAD') || ((status === 301 || status === 302) && verb === 'POST')) {
          verb = 'GET';
          payload = undefined;
          requestHeaders = withoutHeaders(requestHeaders, (name) => name === 'content-type');
        }
        if (next.origin !== target.origin)
          requestHeaders = withoutHeaders(requestHeaders, (name) => !CROSS_ORIGIN_SAFE.has(name));
        target = next;
        continue;
      }
      const text = await this.readCapped(response.body, context.signal);
      if (response.statusCode >= 500) throw new Error(`HTTP ${response.statusCode} from ${target.host}`);
      const contentType = String(response.headers['content-type'] ?? '');
      return {
        kind: 'completed',
        output: {
          status: response.statusCode,
          headers: Object.fromEntries(
            Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
          ),
          body: contentType.includes('json') && text ? safeJson(text) : text,
        },
      };
    }
  }

  private async guard(url: URL): Promise<void> {
    try {
      await assertReachable(url, this.allow);
    } catch (error) {
      if (error instanceof SsrfBlockedError) throw new PermanentStepError(error.message);
      throw error;
    }
  }

  private async readCapped(
    body: AsyncIterable<Buffer> & { destroy(): void },
    signal: AbortSignal,
  ): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > this.config.ENGINE_HTTP_MAX_BYTES) {
        body.destroy();
        throw new PermanentStepError(
          `response body is larger than ${this.config.ENGINE_HTTP_MAX_BYTES} bytes`,
        );
      }
      if (signal.aborted) break;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function withoutHeaders(
  headers: Record<string, string>,
  drop: (name: string) => boolean,
): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !drop(name.toLowerCase())));
}
