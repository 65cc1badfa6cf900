import { describe, expect, it } from '@jest/globals';
import { acceptableAnswer, runChaosCampaign } from '../../chaos/campaign';

// `npm run chaos` at a size CI can afford: the same faults, fewer runs.
describe('fault campaign', () => {
  it('completes every run exactly once through worker kills, a SIGTERM and restarts of Redis and PostgreSQL', async () => {
    const report = await runChaosCampaign({ runs: 36 });
    expect(report.faults.map((f) => f.fault)).toEqual([
      'kill -9',
      'restart Redis',
      'kill -9',
      'restart PostgreSQL',
      'kill -9',
      'SIGTERM',
    ]);
    // Every fault struck with runs in flight, and the API kept answering, with 2xx or 503 only.
    expect(report.faults.every((f) => f.inFlight > 0)).toBe(true);
    expect(Object.keys(report.answers).filter((status) => !acceptableAnswer(status))).toEqual([]);
    // Both outages were seen by the clients, each with its own code.
    expect(report.answers['503 QUEUE_UNAVAILABLE']).toBeGreaterThan(0);
    expect(report.answers['503 DB_UNAVAILABLE']).toBeGreaterThan(0);
    expect(report).toMatchObject({
      runs: 36,
      completed: 36,
      stepsCompletedTwice: 0,
      runsWithSeqGaps: 0,
      missingKeys: 0,
      sigtermExit: 0,
    });
  }, 300_000);
});
