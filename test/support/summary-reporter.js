// Prints the plain closing line CI reads: `tests: N passed, N failed` (and `, N skipped` when any were).
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A file that fails before any test runs (a syntax error, a failing beforeAll) counts as one failure.
    const brokenFiles = results.testResults.filter(
      (file) => file.testExecError && file.numFailingTests === 0,
    );
    const failed = results.numFailedTests + brokenFiles.length;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    // On exit, so it comes after jest's own summary (and the coverage table) as the run's last line.
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
