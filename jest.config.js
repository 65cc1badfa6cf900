// `npm test`: unit specs beside the code (src/**/*.spec.ts) and e2e suites (test/**/*.e2e-spec.ts), each file
// in a jest worker with its own database and queue prefix, against TEST_DATABASE_URL / TEST_REDIS_URL (see
// test/support/backends.ts). The last line printed is `tests: N passed, N failed`.
// A whole run (`npm test`) measures coverage over src/ and fails under the thresholds; a run of chosen files
// (`npm test -- test/e2e/health.e2e-spec.ts`) does not, since a few files cannot cover the tree.
const chosenFiles = process.argv.slice(2).some((arg) => !arg.startsWith('-'));

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 180_000,
  maxWorkers: process.env.TEST_WORKERS ?? 3,
  collectCoverage: !chosenFiles,
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/core/database/migrations/*.ts'],
  coverageReporters: ['text-summary', 'json-summary', 'lcov'],
  coverageThreshold: { global: { lines: 80, branches: 70 } },
};
