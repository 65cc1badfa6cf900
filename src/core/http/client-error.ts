import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorEnvelope } from './error-envelope';

/** Node's parser errors that a client caused, as the status they answer with. */
const PARSER_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request headers are larger than the server accepts'],
  HPE_URI_TOO_LONG: [414, 'Request URI is longer than the server accepts'],
};

/**
 * Requests Node's HTTP parser refuses (oversized headers, a broken request line) never reach Express: Node
 * would answer them with a bare status line. This answers them in the SPEC's envelope instead.
 */
export function answerClientErrorsInEnvelope(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, message] = PARSER_STATUS[error.code ?? ''] ?? [400, 'Malformed HTTP request'];
    const body = JSON.stringify(errorEnvelope(status, undefined, message, randomUUID()));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
