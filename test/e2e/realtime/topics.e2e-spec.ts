import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, loginAdmin, onboardTenant, signToken, type OnboardedTenant } from '../../support/auth';
import { graph, publish, startRun, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { type Frame, keyOf, TestSocket } from '../../support/ws';

let backends: TestBackends;
let api1: RunningApi;
let api2: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;
let other: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends({ TELEMETRY_INTERVAL_MS: '200', WS_PUBLISH_PER_MINUTE: '5' });
  await relaxRateLimits(backends);
  api1 = await startTestApi(backends.env);
  api2 = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  const admin = await loginAdmin(api1.url);
  acme = await onboardTenant(api1.url, admin, 'acme');
  other = await onboardTenant(api1.url, admin, 'other');
});

afterAll(async () => {
  await worker?.stop();
  await api1?.close();
  await api2?.close();
  await backends?.cleanup();
});

async function topics(url: string, credential: string, ...names: string[]): Promise<TestSocket> {
  const socket = await TestSocket.open(url, `/ws/realtime?access_token=${encodeURIComponent(credential)}`);
  for (const topic of names) {
    socket.send({ subscribe: topic });
    await socket.next((f) => f.type === 'subscribed' && f.topic === topic, `the ${topic} subscription`);
  }
  return socket;
}

/** A message on the topic (not the subscribe acknowledgement, which names the topic too). */
const isOn = (topic: string, frame: Frame) => frame.topic === topic && 'msg' in frame;
const onTopic = (socket: TestSocket, topic: string) => socket.frames.filter((f) => isOn(topic, f));

describe('WS /ws/realtime: tenant topics', () => {
  it("relays the tenant's run activity on `runs`, from any worker to any instance, and nobody else's", async () => {
    const acmeWatch = await topics(api2.url, keyOf(acme), 'runs');
    const otherWatch = await topics(api1.url, keyOf(other), 'runs');
    const workflowId = await publish(
      api1.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'work', type: 'transform', config: { expression: '{"n": 1}' } },
        ],
        ['start->work'],
      ),
    );
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    await acmeWatch.next(
      (f) => isOn('runs', f) && (f.msg as { event_type: string }).event_type === 'run.completed',
      'run.completed on the runs topic',
    );
    const messages = onTopic(acmeWatch, 'runs').map((f) => f.msg as Record<string, unknown>);
    expect(messages.every((m) => m.resource_id === runId)).toBe(true);
    expect(messages.map((m) => m.event_type)).toContain('step.completed');
    expect(typeof onTopic(acmeWatch, 'runs')[0].ts).toBe('string');
    expect(onTopic(otherWatch, 'runs')).toEqual([]);
    acmeWatch.close();
    otherWatch.close();
  });

  it('keeps custom topics per tenant: the same name never crosses tenants', async () => {
    const acmeChat = await topics(api1.url, keyOf(acme), 'chat');
    const otherChat = await topics(api2.url, keyOf(other), 'chat');
    otherChat.send({ publish: { topic: 'chat', msg: { text: 'from other' } } });
    acmeChat.send({ publish: { topic: 'chat', msg: { text: 'from acme' } } });
    await acmeChat.next((f) => isOn('chat', f), "acme's own message");
    await otherChat.next((f) => isOn('chat', f), "other's own message");
    // Both published before either arrived; give stray deliveries time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(onTopic(acmeChat, 'chat').map((f) => f.msg)).toEqual([{ text: 'from acme' }]);
    expect(onTopic(otherChat, 'chat').map((f) => f.msg)).toEqual([{ text: 'from other' }]);

    acmeChat.send({ unsubscribe: 'chat' });
    await acmeChat.next((f) => f.type === 'unsubscribed', 'the unsubscribe');
    const colleague = await topics(api2.url, keyOf(acme));
    colleague.send({ publish: { topic: 'chat', msg: 'after unsubscribe' } });
    await colleague.next((f) => f.type === 'published', 'the publish ack');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(onTopic(acmeChat, 'chat')).toHaveLength(1);
    for (const socket of [acmeChat, otherChat, colleague]) socket.close();
  });

  it('refuses publishing on system topics, publishing as a viewer, and malformed frames, keeping the socket', async () => {
    const socket = await topics(api1.url, keyOf(acme));
    const errors = () => socket.frames.filter((f) => f.type === 'error');
    socket.send({ publish: { topic: 'runs', msg: { forged: true } } });
    socket.send({ subscribe: '../other:runs' });
    socket.send({ hello: 'world' });
    socket.ws.send('not json');
    socket.send({ publish: { topic: 'chat' } });
    await socket.next(() => errors().length === 5, 'five error frames');
    expect(errors().map((f) => f.error_code)).toEqual([
      'INSUFFICIENT_PERMISSIONS',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
    ]);
    expect(errors()[0].message).toMatch(/system topic/);
    socket.close();

    const viewer = signToken({ tenant_id: 'acme', role: 'viewer' }, { subject: 'viewer-1' });
    const asViewer = await topics(api1.url, viewer, 'chat');
    asViewer.send({ publish: { topic: 'chat', msg: 'hi' } });
    const refused = await asViewer.next((f) => f.type === 'error', 'the refusal');
    expect(refused.error_code).toBe('INSUFFICIENT_PERMISSIONS');
    asViewer.close();
  });

  it("counts a tenant's publishes across its sockets and API instances, and nobody else's", async () => {
    const admin = await loginAdmin(api1.url);
    const third = await onboardTenant(api1.url, admin, 'third');
    const sockets = [await topics(api1.url, keyOf(third)), await topics(api2.url, keyOf(third))];
    const minute = Math.floor(Date.now() / 60_000);
    for (let i = 0; i < 12; i++) sockets[i % 2].send({ publish: { topic: 'chat', msg: i } });
    const answers = () =>
      sockets.flatMap((s) => s.frames.filter((f) => f.type === 'published' || f.type === 'error'));
    await sockets[0].next(() => answers().length === 12, 'twelve answers');
    const refused = answers().filter((f) => f.type === 'error');
    expect(new Set(refused.map((f) => f.error_code))).toEqual(new Set(['RATE_LIMITED']));
    // The budget is a fixed minute window in Redis: exact unless the sends straddled a minute boundary.
    if (Math.floor(Date.now() / 60_000) === minute) expect(12 - refused.length).toBe(5);
    const otherPublisher = await topics(api2.url, keyOf(other));
    otherPublisher.send({ publish: { topic: 'chat', msg: 'unaffected' } });
    await otherPublisher.next((f) => f.type === 'published', "the other tenant's publish");
    for (const socket of [...sockets, otherPublisher]) socket.close();
  });

  it('feeds `audit` from the audit log and `telemetry` with live figures', async () => {
    const socket = await topics(api1.url, keyOf(acme), 'audit', 'telemetry');
    const created = await call(api2.url, 'POST', '/api/v1/workflows', {
      credentials: acme.ownerKey,
      body: { name: 'audited', definition: graph([{ id: 'start', type: 'trigger.manual' }], []) },
    });
    expect(created.status).toBe(201);
    const audit = await socket.next(
      (f) => isOn('audit', f) && (f.msg as { resource_id: string }).resource_id === created.body.id,
      'the audit event',
    );
    expect(audit.msg).toMatchObject({
      event_type: expect.stringMatching(/workflow/),
      seq: expect.any(Number),
    });

    const workflowId = await publish(api1.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    await waitForStatus(api1.url, acme, runId, ['completed']);
    const from = socket.frames.length;
    const telemetry: Frame = await socket.next(
      (f) =>
        isOn('telemetry', f) &&
        (f.msg as { runs: { finished_per_second: number } }).runs.finished_per_second > 0,
      'telemetry that counts the finished run',
      5_000,
      from,
    );
    expect(telemetry.msg).toMatchObject({
      runs: {
        pending: expect.any(Number),
        running: expect.any(Number),
        started_per_second: expect.any(Number),
      },
      steps: { queued: expect.any(Number), running: expect.any(Number) },
      queues: {
        engine: { waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number) },
      },
    });
    socket.close();
  });
});
