import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';
import { keyOf, TestSocket } from '../../support/ws';

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let other: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends({
    WS_FRAMES_PER_SECOND: '20',
    WS_TENANT_FRAMES_PER_SECOND: '30',
    WS_MAX_CONNECTIONS_PER_TENANT: '3',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

const open = (tenant: OnboardedTenant) =>
  TestSocket.open(api.url, `/ws/realtime?access_token=${encodeURIComponent(keyOf(tenant))}`);

async function healthMs(): Promise<number> {
  const started = performance.now();
  await (await fetch(`${api.url}/health`)).arrayBuffer();
  return performance.now() - started;
}

describe('WebSocket frame budget and connection cap', () => {
  it('answers frames over the per-socket budget with RATE_LIMITED and keeps the socket', async () => {
    const socket = await open(acme);
    try {
      for (let i = 0; i < 40; i += 1) socket.send({ subscribe: `t${i}` });
      await waitFor(() => socket.frames.length >= 40, '40 answers');
      const acks = socket.frames.filter((f) => f.type === 'subscribed');
      const refused = socket.frames.filter((f) => f.type === 'error' && f.error_code === 'RATE_LIMITED');
      expect(acks.length).toBeGreaterThanOrEqual(20);
      expect(acks.length).toBeLessThan(25);
      expect(acks.length + refused.length).toBe(40);
      // A second later the budget has refilled.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      socket.send({ subscribe: 'later' });
      await socket.next((f) => f.type === 'subscribed' && f.topic === 'later', 'the later subscribe');
    } finally {
      socket.close();
    }
  });

  it('closes a flooding socket (1008) without stalling the API or the tenant’s other sockets', async () => {
    const calm = await open(acme);
    const flood = await open(acme);
    try {
      const frames = Array.from({ length: 20_000 }, (_, i) =>
        JSON.stringify({ [i % 2 ? 'unsubscribe' : 'subscribe']: `flood${i % 50}` }),
      );
      for (const frame of frames) flood.ws.send(frame);
      const probes = await Promise.all([healthMs(), healthMs(), healthMs()]);
      expect(Math.max(...probes)).toBeLessThan(1000);
      expect((await flood.closeCode()).code).toBe(1008);
      calm.send({ subscribe: 'still-here' });
      await calm.next(
        (f) => f.type === 'subscribed' && f.topic === 'still-here',
        'the calm socket to be served',
      );
    } finally {
      calm.close();
      flood.close();
    }
  });

  it("refuses a tenant's socket over the per-tenant cap (4429), not another tenant's", async () => {
    const held = [await open(acme), await open(acme), await open(acme)];
    try {
      for (const socket of held) {
        socket.send({ subscribe: 'x' });
        await socket.next((f) => f.type === 'subscribed', 'a held socket to work');
      }
      const extra = await open(acme);
      expect((await extra.closeCode()).code).toBe(4429);
      const theirs = await open(other);
      theirs.send({ subscribe: 'x' });
      await theirs.next((f) => f.type === 'subscribed', "the other tenant's socket");
      theirs.close();
      held.pop()?.close();
      await waitFor(async () => {
        const again = await open(acme);
        again.send({ subscribe: 'x' });
        const ok = await again
          .next((f) => f.type === 'subscribed', 'a socket after one closed', 1000)
          .then(() => true)
          .catch(() => false);
        again.close();
        return ok;
      }, 'a free place after a socket closed');
    } finally {
      for (const socket of held) socket.close();
    }
  });

  it("shares one frame budget over a tenant's sockets: each within its own, together refused past the tenant's", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the earlier tests' frames refilled
    const sockets = await waitFor(async () => {
      const opened = [await open(acme), await open(acme)];
      opened[0].send({ subscribe: 'probe' });
      const ok = await opened[0]
        .next((f) => f.type === 'subscribed', 'a socket under the cap', 1000)
        .then(() => true)
        .catch(() => false);
      if (ok) return opened;
      for (const socket of opened) socket.close();
      return undefined;
    }, "two of the tenant's sockets");
    const theirs = await open(other);
    try {
      // 2 x 18 frames, each socket under its 20 a second, together past the tenant's 30 (one went on the probe).
      for (let i = 0; i < 18; i += 1) for (const socket of sockets) socket.send({ subscribe: `shared${i}` });
      await waitFor(() => sockets.every((socket) => socket.frames.length >= 18), 'every frame answered');
      const answers = sockets.flatMap((socket) =>
        socket.frames.filter((f) => f.type !== 'subscribed' || f.topic !== 'probe'),
      );
      const refused = answers.filter((f) => f.type === 'error' && f.error_code === 'RATE_LIMITED');
      expect(answers).toHaveLength(36);
      expect(refused.length).toBeGreaterThanOrEqual(36 - 30);
      expect(String(refused[0].message)).toContain("over all of the tenant's sockets");
      // Another tenant's budget is its own.
      theirs.send({ subscribe: 'mine' });
      await theirs.next((f) => f.type === 'subscribed' && f.topic === 'mine', "the other tenant's socket");
    } finally {
      for (const socket of sockets) socket.close();
      theirs.close();
    }
  });
});
