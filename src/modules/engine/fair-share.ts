/** BullMQ's lowest priority (2^21); a larger number is refused. */
const LOWEST_PRIORITY = 2 ** 21;
/**
 * One step of the virtual clock: a tenant may enqueue one job per tick (10 a second per process) at the clock's
 * rank before it yields to others. The clock must run slower than the workers serve jobs, or ranks fall due
 * faster than they are served and a flood's backlog ranks ahead of newer jobs again: at 10 ms (100 a second)
 * on 4 worker slots serving 60 a second, a light tenant's run took 5x its idle time behind a 499-step fan-out.
 */
const TICK_MS = 100;
/** How far ahead of the clock a tenant's backlog may push its jobs (an hour); beyond it they share one rank. */
const MAX_AHEAD_TICKS = 36_000;

/**
 * Fair dispatch across tenants, on BullMQ's priorities (1 is served first; equal priorities FIFO): a virtual
 * clock (start-time fair queueing, with the wall clock as virtual time). A job's priority is its virtual start:
 * the current tick, or, when its tenant has enqueued faster than one job per tick, the tick after that tenant's
 * previous job. So a tenant whose fan-out just queued 500 steps holds the next 500 ticks (50 s), and another
 * tenant's one step, ranked at the current tick, goes ahead of most of them; within a tenant, order is kept
 * (its priorities never go down). Every job ranks by when it was enqueued plus its own tenant's backlog, so a
 * waiting job is never overtaken for long: once the clock passes its rank, every newer job ranks behind it.
 * (The previous scheme counted jobs per tenant in one-second windows and started again at 1 each second, so
 * under a steady backlog a job ranked late in its second was overtaken by every later second's early jobs: runs
 * waited 7-11 s at 200 in flight in bench:engine.)
 *
 * Counted per process, with no Redis round trip: several processes each keep their own clock and backlogs, so
 * the order is approximate across processes and exact within one. Ranks wrap around every 2^21 ticks (58 h):
 * jobs still waiting at that moment are overtaken by the new ones until the queue next drains. Every engine job
 * carries a priority (BullMQ serves jobs without one before all prioritised jobs, which would undo the point).
 */
export class FairShare {
  /** Per tenant, the tick its next job starts at, if that is ahead of the clock. */
  private readonly next = new Map<string, number>();
  private calls = 0;

  /** The priority of the next job of `tenantId` enqueued now. */
  priority(tenantId: string, now = Date.now()): number {
    const tick = Math.floor(now / TICK_MS);
    const start = Math.min(Math.max(tick, this.next.get(tenantId) ?? 0), tick + MAX_AHEAD_TICKS);
    this.next.set(tenantId, start + 1);
    if (++this.calls % 10_000 === 0) this.forget(tick);
    return 1 + (start % (LOWEST_PRIORITY - 1));
  }

  /** Tenants whose backlog the clock has caught up with rank at the clock again: nothing to remember. */
  private forget(tick: number): void {
    for (const [tenantId, next] of this.next) if (next <= tick) this.next.delete(tenantId);
  }
}
