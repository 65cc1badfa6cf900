import { describe, expect, it } from '@jest/globals';
import { FairShare } from './fair-share';

const T0 = 1_000_000_000_000; // a wall-clock instant, in ms

describe('FairShare', () => {
  it("ranks another tenant's job ahead of one tenant's burst, and keeps each tenant's order", () => {
    const fair = new FairShare();
    const burst = Array.from({ length: 500 }, () => fair.priority('flooder', T0));
    expect([...burst].sort((a, b) => a - b)).toEqual(burst); // FIFO within the tenant
    const other = fair.priority('quiet', T0 + 1_000);
    // A second later (ten ticks): behind the burst's first ten jobs, ahead of the other 490.
    expect(burst.filter((p) => p < other)).toHaveLength(10);
    expect(fair.priority('flooder', T0 + 1_000)).toBeGreaterThan(burst.at(-1) as number);
  });

  it('never lets a waiting job be overtaken for long: once the clock passes its rank, newer jobs rank behind it', () => {
    const fair = new FairShare();
    const burst = Array.from({ length: 300 }, () => fair.priority('bench', T0));
    const last = burst.at(-1) as number;
    // Thirty seconds later (300 ticks), a new job of any tenant ranks behind the burst's last job.
    expect(fair.priority('bench', T0 + 30_000)).toBeGreaterThan(last);
    expect(fair.priority('someone', T0 + 30_000)).toBeGreaterThan(last);
  });

  it('gives a tenant that keeps up with the clock the rank of the clock, like everyone else', () => {
    const fair = new FairShare();
    const steady = Array.from({ length: 50 }, (_, i) => fair.priority('steady', T0 + i * 200));
    const other = Array.from({ length: 50 }, (_, i) => fair.priority('other', T0 + i * 200));
    expect(steady).toEqual(other);
  });

  it('stays within BullMQ priorities (1 .. 2^21)', () => {
    const fair = new FairShare();
    for (const at of [0, T0, T0 * 7 + 12_345, Number.MAX_SAFE_INTEGER / 2]) {
      const priority = fair.priority('t', at);
      expect(priority).toBeGreaterThanOrEqual(1);
      expect(priority).toBeLessThanOrEqual(2 ** 21);
    }
  });
});
