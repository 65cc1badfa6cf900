/**
 * The baseline for `npm run bench:realtime`: the least a relay can do. A bare `ws` server whose sockets name a run
 * (`/?run=<id>`); one Redis subscriber; every message on a run's channel forwarded as it is to that run's
 * sockets. No auth, no snapshot, no ordering, no bound. Prints `listening <port>` when ready.
 */
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const prefix = process.env.QUEUE_PREFIX as string;
const redis = new Redis(process.env.REDIS_URL as string);
const sockets = new Map<string, Set<WebSocket>>();
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });

redis.on('message', (channel: string, message: string) => {
  for (const socket of sockets.get(channel) ?? []) socket.send(message);
});

server.on('connection', (socket, request) => {
  const channel = `${prefix}:events:runs:${new URL(request.url ?? '/', 'ws://x').searchParams.get('run')}`;
  const set = sockets.get(channel) ?? new Set();
  sockets.set(channel, set.add(socket));
  void redis.subscribe(channel).then(() => socket.send(JSON.stringify({ type: 'ready' })));
  socket.on('close', () => set.delete(socket));
});

server.on('listening', () => console.log(`listening ${(server.address() as { port: number }).port}`));
