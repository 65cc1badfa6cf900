import type { IncomingMessage, Server } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { ClientFrame } from './dto/frames';

const TOPIC_VERBS = ['subscribe', 'unsubscribe', 'publish'] as const;

/** A client frame named for the gateways' handlers; anything unrecognised becomes `invalid`, to be answered. */
export function parseClientFrame(data: unknown): ClientFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(String(data));
  } catch {
    return { event: 'invalid', data: 'A frame must be JSON' };
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
    return { event: 'invalid', data: 'A frame must be a JSON object' };
  const fields = frame as Record<string, unknown>;
  if (fields.type === 'auth') return { event: 'auth', data: fields.token };
  const verb = TOPIC_VERBS.find((name) => name in fields);
  if (verb) return { event: verb, data: fields[verb] };
  return {
    event: 'invalid',
    data: 'Unknown frame: expected {"type":"auth"}, {"subscribe"}, {"unsubscribe"} or {"publish"}',
  };
}

/**
 * Nest's ws adapter with three changes. A gateway's path also takes one more segment, handed to the gateway as
 * `?id=` (WsAdapter matches paths exactly, and a run stream is `/ws/runs/{run_id}`). Frames are routed by the
 * SPEC's shapes rather than Nest's `{event, data}`. Inbound frames are capped at `maxPayload` bytes.
 */
export class ConfluxWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly maxPayload: number,
  ) {
    super(app, { messageParser: parseClientFrame });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}): unknown {
    return super.create(port, { ...options, maxPayload: this.maxPayload });
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    const server = super.ensureHttpServerExists(port, httpServer);
    // Prepended, so the path is rewritten before the adapter's own listener routes the upgrade.
    server?.prependListener('upgrade', (request: IncomingMessage) => this.moveIdToQuery(port, request));
    return server;
  }

  private moveIdToQuery(port: number, request: IncomingMessage): void {
    const paths = ((this.wsServersRegistry.get(port) ?? []) as Array<{ path: string }>).map((s) => s.path);
    const url = new URL(request.url ?? '/', 'ws://localhost');
    const cut = url.pathname.lastIndexOf('/');
    const parent = url.pathname.slice(0, cut);
    if (paths.includes(url.pathname) || cut <= 0 || !paths.includes(parent)) return;
    try {
      url.searchParams.set('id', decodeURIComponent(url.pathname.slice(cut + 1)));
    } catch {
      return;
    }
    request.url = `${parent}${url.search}`;
  }
}
