/** BullMQ's lowest priority (2^21); a larger number is refused. */
const LOWEST_PRIORITY = 2 ** 21;

/**
 * Fair dispatch across tenants, on BullMQ's priorities (1 is served first; equal priorities FIFO). Each step job
 * gets as its priority one more than the number of step jobs this process enqueued for the same tenant in the
 * current window: a tenant's first jobs of a window go out at 1, 2, 3 ..., so a tenant whose fan-out just queued
 * 500 steps (priorities 1..500) does not make another tenant's one step (priority 1) wait behind all of them.
 * Within a tenant, order is kept (priorities rise); across tenants, the one with the smaller burst goes first.
 *
 * Counted per process, with no Redis round trip: several processes each spread their own share, so the order is
 * approximate across processes and exact within one. Every engine job carries a priority (BullMQ serves jobs
 * without one before all prioritised jobs, which would undo the point).
 */
export class FairShare {
  private window = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly windowMs = 1000) {}

  /** The priority of the next job of `tenantId` enqueued now. */
  next(tenantId: string, now = Date.now()): number {
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    const count = (this.counts.get(tenantId) ?? 0) + 1;
    this.counts.set(tenantId, count);
    return Math.min(LOWEST_PRIORITY, count);
  }
}
