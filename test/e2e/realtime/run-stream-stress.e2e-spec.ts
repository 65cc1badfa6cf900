import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { eventsOf, graph, publish, runOf, startRun, stepsOf, waitForStatus } from '../../support/engine';
import {
  createTestBackends,
  relaxRateLimits,
  type RunningApi,
  spawnWorker,
  startTestApi,
  type TestBackends,
  type WorkerProcess,
} from '../../support/harness';
import { isTerminalEvent, reconstruct, type TestSocket, watchRun } from '../../support/ws';

let backends: TestBackends;
let apis: RunningApi[];
let worker: WorkerProcess;
let acme: OnboardedTenant;

beforeAll(async () => {
  backends = await createTestBackends();
  await relaxRateLimits(backends);
  apis = [await startTestApi(backends.env), await startTestApi(backends.env)];
  worker = await spawnWorker(backends.env);
  acme = await onboardTenant(apis[0].url, await loginAdmin(apis[0].url), 'acme');
});

afterAll(async () => {
  await worker?.stop();
  for (const api of apis ?? []) await api.close();
  await backends?.cleanup();
});

/** A small seeded generator, so a failing interleaving can be replayed with STRESS_SEED. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('run streams under load', () => {
  it('20 clients joining at random moments during 50 concurrent runs each rebuild the final state exactly', async () => {
    const seed = Number(process.env.STRESS_SEED ?? Date.now() % 100_000);
    const next = random(seed);
    const workflowId = await publish(
      apis[0].url,
      acme,
      graph(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'a', type: 'transform', config: { expression: '{"a": 1}' } },
          { id: 'b', type: 'transform', config: { expression: '{"b": 2}' } },
          { id: 'pause', type: 'delay', config: { duration_ms: 5000 } },
          { id: 'check', type: 'condition', config: { expression: 'steps.a.output.a = 1' } },
          { id: 'yes', type: 'transform', config: { expression: '{"yes": true}' } },
          { id: 'no', type: 'transform', config: { expression: '{"no": true}' } },
        ],
        [
          'start->a',
          'start->b',
          'a->pause',
          'b->pause',
          'pause->check',
          'check->yes:true',
          'check->no:false',
        ],
      ),
    );
    const runIds = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await startRun(apis[i % 2].url, acme, workflowId, { i });
        expect(res.status).toBe(201);
        return res.body.id as string;
      }),
    );

    const clients = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const runId = runIds[Math.floor(next() * runIds.length)];
        const api = apis[Math.floor(next() * apis.length)];
        await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 2000)));
        const socket: TestSocket = await watchRun(api.url, acme, runId);
        return { runId, socket };
      }),
    );
    for (const runId of runIds)
      await waitForStatus(apis[0].url, acme, runId, ['completed', 'failed'], 60_000);

    let joinedMidRun = 0;
    for (const { runId, socket } of clients) {
      const snapshot = await socket.next((f) => f.type === 'snapshot', `the snapshot of ${runId}`);
      const run = await runOf(apis[1].url, acme, runId);
      if (run.status !== (snapshot.run as { status: string }).status || socket.frames.length > 1) {
        await socket.next(isTerminalEvent, `the terminal event of ${runId}`);
      }
      const state = reconstruct(socket.frames);
      const stored = await eventsOf(apis[1].url, acme, runId);
      const steps = await stepsOf(apis[1].url, acme, runId);
      const context = `seed ${seed}, run ${runId}`;
      expect({ context, seqs: state.eventSeqs }).toEqual({
        context,
        seqs: stored.filter((e) => e.seq > (snapshot.last_seq as number)).map((e) => e.seq),
      });
      expect({ context, status: state.runStatus }).toEqual({ context, status: run.status });
      expect({ context, steps: state.stepStatuses }).toEqual({
        context,
        steps: Object.fromEntries(steps.map((s) => [s.step_id, s.status])),
      });
      expect(state.lastSeq).toBe(stored.at(-1)?.seq);
      if (state.eventSeqs.length > 0) joinedMidRun++;
      socket.close();
    }
    // The point is joining during the runs (they all wait 5 s, clients join within 2 s of their start): most
    // clients must have seen live events after their snapshot.
    console.log(`# ${joinedMidRun} of 20 clients joined mid-run (seed ${seed})`);
    expect(joinedMidRun).toBeGreaterThanOrEqual(15);
  });
});
