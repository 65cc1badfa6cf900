import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import {
  adminToken,
  loginAdmin,
  onboardTenant,
  signToken,
  type OnboardedTenant,
  bearer,
} from '../../support/auth';
import { graph, publish, startRun } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startTestApi,
  type TestBackends,
  waitFor,
} from '../../support/harness';
import { keyOf, TestSocket, watchRun } from '../../support/ws';

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let other: OnboardedTenant;
let acmeRun: string;

beforeAll(async () => {
  backends = await createTestBackends({
    WS_AUTH_TIMEOUT_MS: '300',
    WS_MAX_BUFFERED_BYTES: '65536',
    WS_PUBLISH_PER_MINUTE: '100000',
    // The slow-client test publishes 400 frames at once; frame budgets have their own file (ws-flood).
    WS_FRAMES_PER_SECOND: '1000',
  });
  await relaxRateLimits(backends);
  api = await startTestApi(backends.env);
  const admin = await loginAdmin(api.url);
  acme = await onboardTenant(api.url, admin, 'acme');
  other = await onboardTenant(api.url, admin, 'other');
  // No worker: the run stays pending, which is all these tests need.
  const workflowId = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
  acmeRun = (await startRun(api.url, acme, workflowId)).body.id as string;
});

afterAll(async () => {
  await api?.close();
  await backends?.cleanup();
});

const token = (value: string) => `access_token=${encodeURIComponent(value)}`;

describe('WebSocket handshake: credentials and tenants', () => {
  it('closes 4401 when no credential arrives within the time limit', async () => {
    const socket = await TestSocket.open(api.url, `/ws/runs/${acmeRun}`);
    const closed = await socket.closeCode();
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/auth/);
  });

  it('closes 4401 on a bad token, in the query or in the auth frame', async () => {
    const byQuery = await TestSocket.open(api.url, `/ws/runs/${acmeRun}?${token('cfx_nope')}`);
    expect((await byQuery.closeCode()).code).toBe(4401);
    const forged = signToken({ tenant_id: 'acme', role: 'owner' }, {}, 'another-secret-entirely-0123456789');
    const byFrame = await TestSocket.open(api.url, `/ws/realtime`);
    byFrame.send({ type: 'auth', token: forged });
    expect(await byFrame.closeCode()).toMatchObject({
      code: 4401,
      reason: expect.stringMatching(/signature/),
    });
  });

  it('closes 4401 when the first frame is not auth', async () => {
    const socket = await TestSocket.open(api.url, `/ws/realtime`);
    socket.send({ subscribe: 'runs' });
    expect((await socket.closeCode()).code).toBe(4401);
  });

  it("closes 4403 on another tenant's run and 4404 on an unknown one", async () => {
    const foreign = await watchRun(api.url, other, acmeRun);
    expect(await foreign.closeCode()).toMatchObject({ code: 4403 });
    expect(foreign.frames).toEqual([]);
    const unknown = await watchRun(api.url, acme, '00000000-0000-4000-8000-000000000000');
    expect((await unknown.closeCode()).code).toBe(4404);
    const malformed = await watchRun(api.url, acme, 'not-a-run');
    expect((await malformed.closeCode()).code).toBe(4404);
  });

  it("lets a viewer's JWT and a platform admin watch, and a tenant's run stays its own", async () => {
    const viewer = signToken({ tenant_id: 'acme', role: 'viewer' }, { subject: 'viewer-1' });
    const asViewer = await TestSocket.open(api.url, `/ws/runs/${acmeRun}?${token(viewer)}`);
    await asViewer.next((f) => f.type === 'snapshot', 'the viewer snapshot');
    const asAdmin = await TestSocket.open(api.url, `/ws/runs/${acmeRun}?${token(adminToken())}`);
    await asAdmin.next((f) => f.type === 'snapshot', 'the admin snapshot');
    asViewer.close();
    asAdmin.close();
  });

  it('makes a platform admin name the tenant on /ws/realtime', async () => {
    const unnamed = await TestSocket.open(api.url, `/ws/realtime?${token(adminToken())}`);
    expect((await unnamed.closeCode()).code).toBe(4400);
    const named = await TestSocket.open(api.url, `/ws/realtime?tenant_id=acme&${token(adminToken())}`);
    named.send({ subscribe: 'runs' });
    await named.next((f) => f.type === 'subscribed', 'the subscription');
    named.close();
  });
});

describe('WebSocket transport: heartbeats and slow clients', () => {
  it('pings live peers and drops one that stopped answering', async () => {
    const quick = await startTestApi({ ...backends.env, WS_HEARTBEAT_MS: '400' });
    const live = await TestSocket.open(quick.url, `/ws/realtime?${token(keyOf(acme))}`);
    let pings = 0;
    live.ws.on('ping', () => pings++);
    const dead = await TestSocket.open(quick.url, `/ws/realtime?${token(keyOf(acme))}`);
    // Stop reading: no pong goes back, as with a peer whose network vanished.
    const raw = (dead.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    raw.resume();
    expect((await dead.closeCode()).code).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.close();
    await quick.close();
  });

  it('disconnects a client that stops reading once its unread bytes pass the bound', async () => {
    const slow = await TestSocket.open(api.url, `/ws/realtime?${token(keyOf(acme))}`);
    slow.send({ subscribe: 'bulk' });
    await slow.next((f) => f.type === 'subscribed', 'the slow subscription');
    const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();

    const publisher = await TestSocket.open(api.url, `/ws/realtime?${token(keyOf(acme))}`);
    const chunk = 'x'.repeat(60_000);
    for (let i = 0; i < 400; i++) publisher.send({ publish: { topic: 'bulk', msg: { i, chunk } } });
    await publisher.next(
      (f) => f.type === 'published' && publisher.frames.length >= 400,
      'the publishes',
      30_000,
    );

    const metrics = async () => (await fetch(`${api.url}/metrics`, bearer(adminToken()))).text();
    await waitFor(
      async () => /conflux_ws_slow_client_disconnects_total\{endpoint="realtime"\} 1/.test(await metrics()),
      'the slow client to be disconnected',
    );
    raw.resume();
    expect([1013, 1006]).toContain((await slow.closeCode()).code);
    // The publisher, reading normally, is untouched.
    expect(publisher.ws.readyState).toBe(WebSocket.OPEN);
    const text = await metrics();
    expect(text).toMatch(/conflux_ws_connections\{endpoint="realtime"\} 1/);
    expect(text).toMatch(/conflux_ws_delivery_latency_seconds_count\{endpoint="realtime"\} [1-9]/);
    publisher.close();
  });
});
