import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { eventsOf, graph, publish, runOf, startRun, stepsOf, waitForStatus } from '../../support/engine';
import { testRedisUrl } from '../../support/backends';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  startInProcessWorker,
  startTestApi,
  type TestBackends,
} from '../../support/harness';
import { isTerminalEvent, keyOf, reconstruct, TestSocket, watchRun } from '../../support/ws';

let backends: TestBackends;
let api1: RunningApi;
let api2: RunningApi;
let worker: { stop(): Promise<void> };
let acme: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  api1 = await startTestApi(backends.env);
  api2 = await startTestApi(backends.env);
  worker = await startInProcessWorker(backends.env);
  acme = await onboardTenant(api1.url, await loginAdmin(api1.url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  await api1?.close();
  await api2?.close();
  await backends?.cleanup();
});

const steps = (url: string, runId: string) =>
  stepsOf(url, acme, runId).then((rows) => Object.fromEntries(rows.map((s) => [s.step_id, s.status])));

describe('WS /ws/runs/{run_id} across two API instances and a worker', () => {
  it('streams a run started on instance 1 to a client on instance 2: snapshot, then every event once, in order', async () => {
    const workflowId = await publish(
      api1.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'wait', type: 'delay', config: { duration_ms: 800 } },
          { id: 'a', type: 'transform', config: { expression: '{"x": 1}' } },
          { id: 'b', type: 'transform', config: { expression: '{"y": 2}' } },
          { id: 'join', type: 'transform', config: { expression: '{"done": true}' } },
        ],
        ['start->wait', 'wait->a', 'wait->b', 'a->join', 'b->join'],
      ),
    );
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    const socket = await watchRun(api2.url, acme, runId);
    await socket.next(isTerminalEvent, 'the terminal event');

    const [snapshot, ...events] = socket.frames;
    expect(snapshot).toMatchObject({ type: 'snapshot', run: { id: runId, workflow_id: workflowId } });
    const lastSeq = snapshot.last_seq as number;
    const stored = await eventsOf(api1.url, acme, runId);
    // Exactly the stored events after the snapshot, field for field, and nothing else.
    expect(events).toEqual(stored.filter((e) => e.seq > lastSeq).map((e) => ({ type: 'event', ...e })));
    expect(events.length).toBeGreaterThan(5);
    expect(events.at(-1)).toMatchObject({ event_type: 'run.completed' });

    const state = reconstruct(socket.frames);
    expect(state.runStatus).toBe('completed');
    expect(state.stepStatuses).toEqual(await steps(api1.url, runId));
    socket.close();
  });

  it('gives a client that joins mid-run a snapshot matching the database, then only later events', async () => {
    const workflowId = await publish(
      api1.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'before', type: 'transform', config: { expression: '{"ok": true}' } },
          { id: 'approve', type: 'approval' },
          { id: 'after', type: 'transform', config: { expression: '{"approved": true}' } },
        ],
        ['start->before', 'before->approve', 'approve->after'],
      ),
    );
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    await waitForStatus(api1.url, acme, runId, ['paused']);

    const socket = await watchRun(api2.url, acme, runId);
    const snapshot = await socket.next((f) => f.type === 'snapshot', 'the snapshot');
    expect(snapshot.step_statuses).toEqual(await steps(api1.url, runId));
    expect(snapshot.step_statuses).toMatchObject({ before: 'completed', approve: 'waiting' });
    expect(snapshot.run).toEqual(await runOf(api1.url, acme, runId));
    const stored = await eventsOf(api1.url, acme, runId);
    expect(snapshot.last_seq).toBe(stored.at(-1)?.seq);

    const resumed = await call(api1.url, 'POST', `/api/v1/runs/${runId}/resume`, {
      credentials: acme.ownerKey,
      body: { step_id: 'approve', data: { approved: true } },
    });
    expect(resumed.status).toBe(200);
    await socket.next(isTerminalEvent, 'the terminal event');
    const state = reconstruct(socket.frames);
    expect(Math.min(...state.eventSeqs)).toBe((snapshot.last_seq as number) + 1);
    expect(state.eventSeqs).toEqual(
      Array.from({ length: state.eventSeqs.length }, (_, i) => (snapshot.last_seq as number) + 1 + i),
    );
    expect(state.stepStatuses).toEqual(await steps(api1.url, runId));
    expect(state.runStatus).toBe('completed');

    // Reconnecting after a drop: a fresh snapshot that already holds everything.
    socket.close();
    const again = await watchRun(api1.url, acme, runId);
    const fresh = await again.next((f) => f.type === 'snapshot', 'the fresh snapshot');
    expect(fresh.last_seq).toBe(state.lastSeq);
    expect(fresh.step_statuses).toEqual(state.stepStatuses);
    expect((fresh.run as { status: string }).status).toBe('completed');
    again.close();
  });

  it("misses nothing when the API's Redis subscription drops mid-run", async () => {
    const workflowId = await publish(
      api1.url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'one', type: 'delay', config: { duration_ms: 300 } },
          { id: 'two', type: 'transform', config: { expression: '{"two": 2}' } },
          { id: 'three', type: 'delay', config: { duration_ms: 300 } },
          { id: 'four', type: 'transform', config: { expression: '{"four": 4}' } },
        ],
        ['start->one', 'one->two', 'two->three', 'three->four'],
      ),
    );
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    const socket = await watchRun(api2.url, acme, runId);
    await socket.next((f) => f.type === 'snapshot', 'the snapshot');
    // Every pub/sub connection on the server is cut: whatever is published until they reconnect is lost.
    const redis = new Redis(testRedisUrl());
    await redis.client('KILL', 'TYPE', 'pubsub');
    redis.disconnect();
    await socket.next(isTerminalEvent, 'the terminal event');
    const state = reconstruct(socket.frames);
    const stored = await eventsOf(api1.url, acme, runId);
    expect(state.eventSeqs).toEqual(
      stored.filter((e) => e.seq > (socket.frames[0].last_seq as number)).map((e) => e.seq),
    );
    expect(state.stepStatuses).toEqual(await steps(api1.url, runId));
    socket.close();
  });

  it('authenticates with a first auth frame instead of the query parameter', async () => {
    const workflowId = await publish(api1.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
    const runId = (await startRun(api1.url, acme, workflowId)).body.id as string;
    await waitForStatus(api1.url, acme, runId, ['completed']);
    const socket = await TestSocket.open(api2.url, `/ws/runs/${runId}`);
    socket.send({ type: 'auth', token: keyOf(acme) });
    const snapshot = await socket.next((f) => f.type === 'snapshot', 'the snapshot');
    expect(snapshot).toMatchObject({ run: { id: runId, status: 'completed' } });
    socket.close();
  });
});
