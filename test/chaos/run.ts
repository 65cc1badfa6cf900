// `npm run chaos`: the fault campaign of test/chaos/campaign.ts at full size (CHAOS_RUNS, default 200); prints its
// report and exits 1 unless every run completed, no step completed twice and the API answered only 2xx/503.
import { buildForSpawnedProcesses } from '../support/test-build';
import { acceptableAnswer, runChaosCampaign } from './campaign';

async function main(): Promise<void> {
  buildForSpawnedProcesses();
  const runs = Number(process.env.CHAOS_RUNS ?? 200);
  const report = await runChaosCampaign({ runs, log: (line) => console.log(line) });
  console.log(JSON.stringify(report, null, 2));
  const bad = Object.keys(report.answers).filter((status) => !acceptableAnswer(status));
  const ok =
    report.completed === report.runs &&
    report.stepsCompletedTwice === 0 &&
    report.runsWithSeqGaps === 0 &&
    report.missingKeys === 0 &&
    report.sigtermExit === 0 &&
    bad.length === 0;
  console.log(
    `chaos: ${report.completed}/${report.runs} runs completed, ${report.stepsCompletedTwice} steps completed twice, ` +
      `${report.missingKeys} keys missing, answers ${JSON.stringify(report.answers)}, ` +
      `${(report.durationMs / 1000).toFixed(1)} s: ${ok ? 'PASS' : 'FAIL'}`,
  );
  process.exitCode = ok ? 0 : 1;
}

void main();
