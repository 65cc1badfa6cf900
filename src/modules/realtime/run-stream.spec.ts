import { describe, expect, it } from '@jest/globals';
import type { RunEventResponse } from '../runs/dto/run.dto';
import type { RunSnapshot } from '../runs/runs.service';
import { RunStream, type RunStreamSource, toStreamEvent } from './run-stream';

const event = (seq: number): RunEventResponse => ({
  seq,
  event_type: 'step.completed',
  step_id: `s${seq}`,
  data: {},
  timestamp: new Date(0).toISOString(),
});

/** A run's event log as the database holds it, with a snapshot taken at `lastSeq`. */
function log(length: number, lastSeq: number) {
  const reads: number[] = [];
  let release!: () => void;
  const snapshotTaken = new Promise<void>((resolve) => (release = resolve));
  const source: RunStreamSource = {
    snapshot: async () => {
      await snapshotTaken;
      return { run: { status: 'running' }, step_statuses: {}, last_seq: lastSeq } as unknown as RunSnapshot;
    },
    eventsAfter: (seq, limit) => {
      reads.push(seq);
      return Promise.resolve(
        Array.from({ length }, (_, i) => event(i + 1))
          .filter((e) => e.seq > seq)
          .slice(0, limit),
      );
    },
  };
  return { source, reads, release };
}

function sink() {
  const frames: Array<{ type: string; seq?: number; last_seq?: number }> = [];
  const failures: unknown[] = [];
  return {
    frames,
    failures,
    send: (frame: string) => frames.push(JSON.parse(frame) as { type: string; seq?: number }),
    fail: (error: unknown) => failures.push(error),
    seqs: () => frames.filter((f) => f.type === 'event').map((f) => f.seq),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RunStream', () => {
  it('holds live events until the snapshot is out, then sends only those after it, in order', async () => {
    const { source, reads, release } = log(6, 3);
    const out = sink();
    const stream = new RunStream(source, out, 60_000);
    stream.start();
    // Published while the snapshot was being read: 3 is already in it; 5 arrives before 4.
    for (const seq of [3, 5, 4, 6]) stream.offer(toStreamEvent(event(seq)));
    release();
    await settle();
    await settle();
    expect(out.frames[0]).toMatchObject({ type: 'snapshot', last_seq: 3 });
    expect(out.seqs()).toEqual([4, 5, 6]);
    expect(reads).toEqual([]);
    stream.close();
  });

  it('fills a gap from the database before the event that revealed it, and drops repeats', async () => {
    const { source, reads, release } = log(10, 2);
    release();
    const out = sink();
    const stream = new RunStream(source, out, 60_000);
    stream.start();
    await settle();
    stream.offer(toStreamEvent(event(3)));
    stream.offer(toStreamEvent(event(7))); // 4..6 were lost in pub/sub
    stream.offer(toStreamEvent(event(5))); // a late copy
    stream.offer(toStreamEvent(event(8)));
    for (let i = 0; i < 5; i++) await settle();
    expect(out.seqs()).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(reads).toEqual([3]);
    stream.close();
  });

  it('catches up after a resync, and checks the database when it has been idle', async () => {
    const { source, reads, release } = log(4, 1);
    release();
    const out = sink();
    const stream = new RunStream(source, out, 30);
    stream.start();
    await settle();
    stream.resync();
    await settle();
    expect(out.seqs()).toEqual([2, 3, 4]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(out.seqs()).toEqual([2, 3, 4]);
    stream.close();
  });

  it('reports a failed read to its sink', async () => {
    const out = sink();
    const stream = new RunStream(
      { snapshot: () => Promise.reject(new Error('db down')), eventsAfter: () => Promise.resolve([]) },
      out,
      60_000,
    );
    stream.start();
    await settle();
    expect(out.failures).toEqual([new Error('db down')]);
    expect(out.frames).toEqual([]);
  });
});
