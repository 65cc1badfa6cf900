import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { Principal } from '../auth/principal';
import { currentPrincipal, currentRequestId } from '../tenancy/request-context';
import type { LogStoreSink } from './log-store-sink';
import { isSecretName, REDACTED } from '../redaction/redact';

let stdout: pino.DestinationStream | undefined;

/**
 * Where lines go unless told otherwise: stdout, written asynchronously, so a request's log line never blocks the
 * event loop on a slow terminal or pipe. Lines are written 4 KB at a time, or every 100 ms if fewer have
 * arrived: one write per request cost the API 12 % of its CPU under load (a system call and a thread-pool hop
 * each). One destination per process, shared by every logger in it (the dev process runs the API's and the
 * worker's), so lines leave in the order they were logged. Flushed synchronously when the process exits; a
 * SIGKILL loses what was not written yet (at most the last 100 ms).
 */
export function stdoutDestination(): pino.DestinationStream {
  stdout ??= pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });
  return stdout;
}

/**
 * Plain text for people (the start-up banner) on stdout, after every log line written before it: it joins the
 * same queue as the logs rather than racing them on another stream.
 */
export function printAfterLogs(text: string): void {
  (stdout ?? process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Never logged as written: credentials, secrets, and the SQL and values a database error carries. */
export const REDACTED_PATHS = [
  'err.query',
  'err.parameters',
  'err.detail',
  'err.driverError.query',
  'err.driverError.parameters',
  'err.driverError.detail',
  'password',
  'api_key',
  'secret',
  'token',
  'authorization',
  '*.password',
  '*.api_key',
  '*.secret',
  '*.token',
  '*.authorization',
  '*["x-api-key"]',
  '*.cookie',
];

/**
 * Query parameters whose values are credentials (WebSocket and board tokens, signed URLs): never logged. Any
 * secret name (core/redaction), and the short names that mean one only in a URL.
 */
const URL_SECRET_PARAMS = /^(key|sig)$/i;
const isSecretParam = (name: string) => isSecretName(name) || URL_SECRET_PARAMS.test(name);

/** A request URL as logged: secret query values replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = new URLSearchParams(url.slice(query + 1));
  let changed = false;
  for (const name of [...params.keys()])
    if (isSecretParam(name)) {
      params.set(name, REDACTED);
      changed = true;
    }
  return changed ? `${url.slice(0, query)}?${params.toString()}` : url;
}

/** The `tenant_id` of a request line: the authenticated tenant, when there is one. */
export function tenantOf(req: { user?: Principal }): { tenant_id?: string } {
  return req.user?.tenant_id ? { tenant_id: req.user.tenant_id } : {};
}

/**
 * JSON logs on stdout; every line written inside a request carries its `request_id`. With a `store`, the lines
 * the local log store keeps (warn+, request lines) also go there, whatever LOG_LEVEL says for stdout.
 */
export function createLogger(
  level: string,
  destination: pino.DestinationStream = stdoutDestination(),
  store?: LogStoreSink,
): Logger {
  const levels = pino.levels.values;
  const storeLevel = 'info';
  const lowest = store && !(levels[level] <= levels[storeLevel]) ? storeLevel : level;
  const logger = pino(
    {
      level: lowest,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      base: { service: 'conflux', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // What the line or its logger already carries is not added again. The child's bindings are read as the
      // JSON text pino keeps them in: bindings() would parse it on every line.
      mixin: (merge, _level, logger) => {
        const bound =
          (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
        const has = (key: string) => key in merge || bound.includes(`"${key}":`);
        const requestId = has('request_id') ? undefined : currentRequestId();
        const tenantId = has('tenant_id') ? undefined : currentPrincipal()?.tenant_id;
        return {
          ...(requestId ? { request_id: requestId } : {}),
          ...(tenantId ? { tenant_id: tenantId } : {}),
        };
      },
    },
    store
      ? pino.multistream([
          ...(level === 'silent' ? [] : [{ level: level as pino.Level, stream: destination }]),
          { level: storeLevel, stream: store },
        ])
      : destination,
  );
  return logger;
}

/** Nest's start-up chatter (a line per module, route and gateway): useful when debugging, noise otherwise. */
const FRAMEWORK_BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'WebSocketsController',
]);

/** Nest's logger interface over pino, so framework messages are JSON lines like ours. */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    const boot = typeof context === 'string' && FRAMEWORK_BOOT_CONTEXTS.has(context);
    this.write(boot ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  // Nest passes (message, context) or (message, stack, context).
  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'string') {
      this.pino[level]({ context, stack }, message);
    } else if (isStructured(message)) {
      // A structured line (`logger.warn({ msg, run_id, ... })`): its fields at the top level, queryable.
      const { msg, ...fields } = message;
      this.pino[level]({ context, ...fields }, msg);
    } else {
      this.pino[level]({ context, data: message });
    }
  }
}

function isStructured(message: unknown): message is { msg: string } & Record<string, unknown> {
  return (
    typeof message === 'object' && message !== null && typeof (message as { msg?: unknown }).msg === 'string'
  );
}
